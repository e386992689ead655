import { Inject, Injectable } from '@nestjs/common';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample.config.js';
import { WarehouseUnavailableError } from './warehouse-unavailable.error.js';

export type Reservation = { reserved: true; remaining: number } | { reserved: false; reason: string };

/** The stock, in memory, with a switch that simulates the warehouse system being down. */
@Injectable()
export class Warehouse {
  private readonly stock: Map<string, number>;
  private outage = false;

  constructor(@Inject(SAMPLE_CONFIG) config: SampleConfig) {
    this.stock = new Map(Object.entries(config.initialStock));
  }

  /** Takes `quantity` units out of stock. Throws WarehouseUnavailableError during an outage. */
  reserve(item: string, quantity: number): Reservation {
    if (this.outage) throw new WarehouseUnavailableError();
    const available = this.stock.get(item) ?? 0;
    if (available < quantity) {
      return { reserved: false, reason: `Only ${available} ${item} in stock, ${quantity} ordered.` };
    }
    this.stock.set(item, available - quantity);
    return { reserved: true, remaining: available - quantity };
  }

  setOutage(on: boolean): void {
    this.outage = on;
  }

  status(): { outage: boolean; stock: Record<string, number> } {
    return { outage: this.outage, stock: Object.fromEntries(this.stock) };
  }
}
