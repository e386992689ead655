import type { OrderPlaced } from './order-placed.event.js';

/** The library's first example, in its original wire shape. */
export interface NewOrder {
  order_id: number;
  item: string;
}

/** Published by POST /orders/:id/ship (and by the seed example). */
export interface OrderShipped {
  order_id: number;
}

export interface OrderReserved {
  orderId: number;
  item: string;
  quantity: number;
  /** Units of the item left after this reservation. */
  remaining: number;
}

export interface ReservationFailed {
  orderId: number;
  reason: string;
}

/**
 * Every event of the service, by name. `EventPublisher<SampleEvents>` and `OnSampleEvent` turn an
 * unknown name or a wrong payload into a compile error.
 */
export interface SampleEvents {
  new_order: NewOrder;
  order_shipped: OrderShipped;
  'order.placed': OrderPlaced;
  'order.reserved': OrderReserved;
  'order.reservation-failed': ReservationFailed;
}
