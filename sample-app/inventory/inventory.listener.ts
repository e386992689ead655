import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEventClass } from '../../lib/index.js';
import { OrderPlaced } from '../events/order-placed.event.js';
import type { SampleEvents } from '../events/sample-events.js';
import { Warehouse } from './warehouse.js';

@Injectable()
export class InventoryListener {
  constructor(
    private readonly warehouse: Warehouse,
    private readonly events: EventPublisher<SampleEvents>,
  ) {}

  /**
   * Subscribed to the class: receives OrderPlaced instances (and subclasses'). An outage makes it throw;
   * the service-wide retry policy (event-bus.options.ts) retries with backoff, then dead-letters the event
   * and the order stays 'placed'. Out of stock is an answer, not a failure: it is published, not thrown.
   * A retry can follow a run that already reserved (if publishing failed), so the reservation is idempotent.
   * The events published here carry causationId = the OrderPlaced event's id, with no argument passing.
   */
  @OnEventClass(OrderPlaced)
  reserveStock(order: OrderPlaced): void {
    const reservation = this.warehouse.reserve(order.orderId, order.item, order.quantity);
    if (reservation.reserved) {
      this.events.publish('order.reserved', {
        orderId: order.orderId,
        item: order.item,
        quantity: order.quantity,
        remaining: reservation.remaining,
      });
    } else {
      this.events.publish('order.reservation-failed', { orderId: order.orderId, reason: reservation.reason });
    }
  }
}
