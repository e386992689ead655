import { Injectable, Logger } from '@nestjs/common';
import type { OrderPlaced } from '../events/order-placed.event.js';
import { OnSampleEvent } from '../events/on-sample-event.js';
import { Mailer } from './mailer.js';

@Injectable()
export class EmailListener {
  private readonly logger = new Logger(EmailListener.name);

  constructor(private readonly mailer: Mailer) {}

  /**
   * Subscribed by name: a string handler also receives the class events published under that name
   * (OrderPlaced is `@Event('order.placed')`). The slow part of placing an order, which is why the HTTP
   * request does not wait for it. At most 5 messages in flight: a mail server throttles bursts.
   */
  @OnSampleEvent('order.placed', { concurrency: 5 })
  async sendConfirmation(order: OrderPlaced): Promise<void> {
    this.logger.log(`Send confirmation for order #${order.orderId}`);
    await this.mailer.send({
      to: 'customer@example.com',
      subject: `Order #${order.orderId} confirmed`,
      text: `We received your order of ${order.quantity} x ${order.item}.`,
    });
  }
}
