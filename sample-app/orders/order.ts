/** placed → reserved or reservation-failed; reserved → shipped. Each step is applied by an event handler. */
export type OrderStatus = 'placed' | 'reserved' | 'reservation-failed' | 'shipped';

/** One status change and the event that caused it. */
export interface OrderStatusChange {
  status: OrderStatus;
  eventId: string;
  at: string;
}

export interface Order {
  id: number;
  item: string;
  quantity: number;
  status: OrderStatus;
  /** Why the reservation failed, when it did. */
  reason?: string;
  /** The order_shipped event, once shipping was requested (its status follows when the event is handled). */
  shipmentEventId?: string;
  /** The correlation id of the order's events (its OrderPlaced event's id), to find them in GET /audit. */
  correlationId: string;
  history: OrderStatusChange[];
}
