import { Inject, Injectable, Logger, Scope } from '@nestjs/common';
import { EVENT_ENVELOPE, type EventEnvelope } from '../../lib/index.js';
import { OnSampleEvent } from '../events/on-sample-event.js';
import type { OrderReserved, OrderShipped, ReservationFailed } from '../events/sample-events.js';
import type { OrderStatus } from './order.js';
import { OrderStore } from './order.store.js';

/**
 * Moves an order's status as its events are handled (the read side of GET /orders/:id).
 * Request-scoped: the bus builds one instance per event and injects that event's envelope, the way an
 * HTTP request-scoped provider gets REQUEST. Each status change is stamped with the causing event's id.
 */
@Injectable({ scope: Scope.REQUEST })
export class OrderStatusListener {
  private readonly logger = new Logger(OrderStatusListener.name);

  constructor(
    private readonly orders: OrderStore,
    @Inject(EVENT_ENVELOPE) private readonly envelope: EventEnvelope,
  ) {}

  @OnSampleEvent('order.reserved')
  onReserved(event: OrderReserved): void {
    this.apply(event.orderId, 'reserved');
  }

  @OnSampleEvent('order.reservation-failed')
  onReservationFailed(event: ReservationFailed): void {
    this.apply(event.orderId, 'reservation-failed', event.reason);
  }

  @OnSampleEvent('order_shipped')
  onShipped(event: OrderShipped): void {
    this.apply(event.order_id, 'shipped');
  }

  private apply(orderId: number, status: OrderStatus, reason?: string): void {
    const { id, occurredAt } = this.envelope;
    // Events can name orders this service never took (the seed example ships order #124): nothing to update.
    if (!this.orders.changeStatus(orderId, status, id, occurredAt, reason)) {
      this.logger.debug(`No order #${orderId} here; event ${id} ignored.`);
    }
  }
}
