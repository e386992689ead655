import { Injectable, Logger } from '@nestjs/common';
import { OnSampleEvent } from '../events/on-sample-event.js';
import type { NewOrder, OrderShipped } from '../events/sample-events.js';

/** The library's first example: plain named events with typed payloads. */
@Injectable()
export class OrderListener {
  private readonly logger = new Logger(OrderListener.name);

  @OnSampleEvent('new_order')
  handleNewOrder(order: NewOrder): void {
    this.logger.log(`Processing order #${order.order_id} for ${order.item}`);
  }

  @OnSampleEvent('order_shipped')
  handleOrderShipped(event: OrderShipped): void {
    this.logger.log(`Order #${event.order_id} has been shipped.`);
  }
}
