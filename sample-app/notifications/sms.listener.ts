import { Injectable, Logger } from '@nestjs/common';
import type { EventEnvelope } from '../../lib/index.js';
import type { OrderPlaced } from '../events/order-placed.event.js';
import { OnSampleEvent } from '../events/on-sample-event.js';
import { SmsGateway } from './sms-gateway.js';

/**
 * The notifications service's only handler. It runs in another process than the order service, and gets
 * every `order.placed` too: its consumer group (notifications-service) is not the order service's.
 * Subscribed by name: the OrderPlaced class is not needed here, the payload arrives as plain JSON.
 */
@Injectable()
export class SmsListener {
  private readonly logger = new Logger('Notifications');

  constructor(private readonly sms: SmsGateway) {}

  @OnSampleEvent('order.placed')
  sendOrderPlacedSms(order: OrderPlaced, envelope: EventEnvelope<OrderPlaced>): void {
    this.logger.log(`Order #${order.orderId} placed: sending SMS (event ${envelope.id})`);
    this.sms.send({ to: '+15550100', text: `Thanks! Your order #${order.orderId} (${order.quantity} x ${order.item}) is placed.` });
  }
}
