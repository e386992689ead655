import type { OrderPlaced } from '../events/order-placed.event.js';

/** What placing an order records about its OrderPlaced event. */
export interface PlacedEvent {
  id: string;
  correlationId: string;
  occurredAt: Date;
}

/**
 * Where a placed order is written and how its OrderPlaced event leaves: in memory and published at
 * once (the default), or in PostgreSQL with the event in the outbox, in one transaction (DATABASE_URL).
 */
export interface OrderWriter {
  /** The last order id already taken (ids continue after it). */
  lastOrderId(): Promise<number>;
  place(event: OrderPlaced): Promise<PlacedEvent>;
}

export const ORDER_WRITER = Symbol('ORDER_WRITER');
