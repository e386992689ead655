import { Injectable } from '@nestjs/common';
import type { Order, OrderStatus } from './order.js';

/** The orders, in memory: the read model of GET /orders (with DATABASE_URL, placed orders are also written to PostgreSQL). */
@Injectable()
export class OrderStore {
  private readonly orders = new Map<number, Order>();
  private lastId = 0;

  /** Ids continue after `lastId` (orders already in the database, with DATABASE_URL). */
  startAfter(lastId: number): void {
    this.lastId = Math.max(this.lastId, lastId);
  }

  nextId(): number {
    return ++this.lastId;
  }

  save(order: Order): Order {
    this.orders.set(order.id, order);
    return order;
  }

  remove(id: number): void {
    this.orders.delete(id);
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
