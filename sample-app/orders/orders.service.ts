import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { EventPublisher, type EventEnvelope } from '../../lib/index.js';
import { OrderPlaced } from '../events/order-placed.event.js';
import type { OrderShipped, SampleEvents } from '../events/sample-events.js';
import type { Order } from './order.js';
import { OrderStore } from './order.store.js';

@Injectable()
export class OrdersService {
  constructor(
    private readonly orders: OrderStore,
    private readonly events: EventPublisher<SampleEvents>,
  ) {}

  /** Records the order and announces it. Inventory, email and audit react later, never in this call. */
  place(item: string, quantity: number): Order {
    const id = this.orders.nextId();
    const placed = this.events.publish(new OrderPlaced(id, item, quantity));
    // Saving after publish() is safe: handlers never run inside publish's call stack.
    return this.orders.save({
      id,
      item,
      quantity,
      status: 'placed',
      correlationId: placed.correlationId,
      history: [{ status: 'placed', eventId: placed.id, at: placed.occurredAt.toISOString() }],
    });
  }

  get(id: number): Order {
    const order = this.orders.find(id);
    if (order === undefined) throw new NotFoundException(`Order #${id} not found.`);
    return order;
  }

  list(): Order[] {
    return this.orders.all();
  }

  /** Announces the shipment; the order's status becomes 'shipped' when the event is handled. */
  ship(id: number): EventEnvelope<OrderShipped> {
    const order = this.get(id);
    if (order.shipmentEventId !== undefined) {
      throw new ConflictException(`Order #${id}: shipping was already requested (event ${order.shipmentEventId}).`);
    }
    if (order.status !== 'reserved') {
      throw new ConflictException(`Order #${id} is ${order.status}: only a reserved order can be shipped.`);
    }
    // The order's correlation id groups the shipment with the placement's events in the audit trail.
    const shipped = this.events.publish('order_shipped', { order_id: id }, { correlationId: order.correlationId });
    order.shipmentEventId = shipped.id;
    return shipped;
  }
}
