import { Inject, Injectable } from '@nestjs/common';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample.config.js';
import { WarehouseUnavailableError } from './warehouse-unavailable.error.js';

export type Reservation = { reserved: true; remaining: number } | { reserved: false; reason: string };

/** The stock, in memory, with a switch that simulates the warehouse system being down. */
@Injectable()
export class Warehouse {
  private readonly stock: Map<string, number>;
  /** Each order's outcome, so a retried reservation is answered again instead of taking stock twice. */
  private readonly reservations = new Map<number, Reservation>();
  private outage = false;

  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    this.stock = new Map(Object.entries(config.initialStock));
  }

  /**
   * Takes `quantity` units out of stock for an order, once: asking again for the same order (a retry)
   * returns the first outcome. Throws WarehouseUnavailableError during an outage.
   */
  reserve(orderId: number, item: string, quantity: number): Reservation {
    if (this.outage) throw new WarehouseUnavailableError();
    const earlier = this.reservations.get(orderId);
    if (earlier !== undefined) return earlier;
    const available = this.stock.get(item) ?? 0;
    const reservation: Reservation =
      available < quantity
        ? { reserved: false, reason: `Only ${available} ${item} in stock, ${quantity} ordered.` }
        : { reserved: true, remaining: available - quantity };
    if (reservation.reserved) this.stock.set(item, reservation.remaining);
    this.reservations.set(orderId, reservation);
    return reservation;
  }

  setOutage(on: boolean): void {
    this.outage = on;
  }

  status(): { outage: boolean; stock: Record<string, number> } {
    return { outage: this.outage, stock: Object.fromEntries(this.stock) };
  }
}
