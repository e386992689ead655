import { IsInt, IsNotEmpty, IsPositive, IsString } from 'class-validator';
import { Event } from '../../lib/index.js';

/**
 * A class event: handlers can subscribe to the class (`@OnEvent(OrderPlaced)`) or to its stable name,
 * which is also what travels between processes once a transport is configured. The class-validator
 * decorators describe its payload in the generated AsyncAPI document (sample-app/async-api.ts).
 */
@Event('order.placed')
export class OrderPlaced {
  @IsInt()
  readonly orderId: number;

  @IsString()
  @IsNotEmpty()
  readonly item: string;

  @IsInt()
  @IsPositive()
  readonly quantity: number;

  constructor(orderId: number, item: string, quantity: number) {
    this.orderId = orderId;
    this.item = item;
    this.quantity = quantity;
  }
}
