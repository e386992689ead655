import { Event } from '../../lib/index.js';

/**
 * A class event: handlers can subscribe to the class (`@OnEvent(OrderPlaced)`) or to its stable name,
 * which is also what travels between processes once a transport is configured.
 */
@Event('order.placed')
export class OrderPlaced {
  constructor(
    readonly orderId: number,
    readonly item: string,
    readonly quantity: number,
  ) {}
}
