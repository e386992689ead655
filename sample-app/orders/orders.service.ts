import { ConflictException, Inject, Injectable, NotFoundException, type OnModuleInit } from '@nestjs/common';
import { EventPublisher, type EventEnvelope } from '../../lib/index.js';
import { OrderPlaced } from '../events/order-placed.event.js';
import type { OrderShipped, SampleEvents } from '../events/sample-events.js';
import type { Order } from './order.js';
import { OrderStore } from './order.store.js';
import { ORDER_WRITER, type OrderWriter } from './order-writer.js';

@Injectable()
export class OrdersService implements OnModuleInit {
  constructor(
    private readonly orders: OrderStore,
    private readonly events: EventPublisher<SampleEvents>,
    @Inject(ORDER_WRITER) private readonly writer: OrderWriter,
  ) {}

  async onModuleInit(): Promise<void> {
    this.orders.startAfter(await this.writer.lastOrderId());
  }

  /**
   * Records the order and announces it (in memory and published at once, or with DATABASE_URL in
   * PostgreSQL with the event in the outbox, one transaction). Inventory, email and audit react later.
   */
  async place(item: string, quantity: number): Promise<Order> {
    const id = this.orders.nextId();
    const event = new OrderPlaced(id, item, quantity);
    // Kept in the read model before the event can be handled (handlers update its status).
    const order = this.orders.save({ id, item, quantity, status: 'placed', correlationId: '', history: [] });
    let placed;
    try {
      placed = await this.writer.place(event);
    } catch (error) {
      this.orders.remove(id);
      throw error;
    }
    order.correlationId = placed.correlationId;
    // First in the history, whatever handlers recorded meanwhile.
    order.history.unshift({ status: 'placed', eventId: placed.id, at: placed.occurredAt.toISOString() });
    return order;
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
