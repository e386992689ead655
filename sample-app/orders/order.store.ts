import { Injectable } from '@nestjs/common';
import type { Order, OrderStatus } from './order.js';

/** The orders, in memory: a sample keeps no database. */
@Injectable()
export class OrderStore {
  private readonly orders = new Map<number, Order>();
  private lastId = 0;

  nextId(): number {
    return ++this.lastId;
  }

  save(order: Order): Order {
    this.orders.set(order.id, order);
    return order;
  }

  find(id: number): Order | undefined {
    return this.orders.get(id);
  }

  all(): Order[] {
    return [...this.orders.values()];
  }

  /** Records a status change caused by event `eventId`; false when the order is not one of ours. */
  changeStatus(id: number, status: OrderStatus, eventId: string, at: Date, reason?: string): boolean {
    const order = this.orders.get(id);
    if (order === undefined) return false;
    order.status = status;
    if (reason !== undefined) order.reason = reason;
    order.history.push({ status, eventId, at: at.toISOString() });
    return true;
  }
}
