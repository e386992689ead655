import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { EventBus } from '../event-bus.js';

export interface EventRate {
  event: string;
  /** Dispatched in this process: published here (in-process) or received from the transport, and redriven. */
  published: number;
  /** Successful handler runs. */
  handled: number;
  /** Failed handler attempts (retries included). */
  failed: number;
  /** Final failures. */
  deadLettered: number;
}

type Counter = 'published' | 'handled' | 'failed' | 'deadLettered';
const COUNTERS: readonly Counter[] = ['published', 'handled', 'failed', 'deadLettered'];
const MINUTE = 60_000;
/** Distinct event names counted; past it new names are counted under '(other)'. */
const MAX_EVENTS = 500;

/** Per event, counts of the last minutes, in one-minute buckets (a ring per event and counter). */
@Injectable()
export class EventRates implements OnModuleDestroy {
  private readonly buckets = new Map<string, { minute: number[]; counts: Record<Counter, number[]> }>();
  private readonly subscription = new Subscription();
  private minutes = 5;

  constructor(bus: EventBus) {
    this.subscription.add(bus.events$.subscribe((e) => this.count(String(e.name), 'published')));
    this.subscription.add(bus.handled$.subscribe((h) => this.count(String(h.envelope.name), 'handled')));
    this.subscription.add(bus.errors$.subscribe((f) => this.count(String(f.envelope.name), 'failed')));
    this.subscription.add(bus.deadLetters$.subscribe((f) => this.count(String(f.envelope.name), 'deadLettered')));
  }

  /** @internal Set by the dashboard module from its options. */
  configure(minutes: number): void {
    this.minutes = minutes;
  }

  get windowMinutes(): number {
    return this.minutes;
  }

  /** Totals over the last `windowMinutes` minutes, by event name. */
  snapshot(now = Date.now()): EventRate[] {
    const current = Math.floor(now / MINUTE);
    const rates: EventRate[] = [];
    for (const [event, ring] of this.buckets) {
      const rate: EventRate = { event, published: 0, handled: 0, failed: 0, deadLettered: 0 };
      for (let i = 0; i < this.minutes; i++) {
        if (current - ring.minute[i] >= this.minutes) continue;
        for (const c of COUNTERS) rate[c] += ring.counts[c][i];
      }
      rates.push(rate);
    }
    return rates.sort((a, b) => a.event.localeCompare(b.event));
  }

  onModuleDestroy(): void {
    this.subscription.unsubscribe();
  }

  private count(name: string, counter: Counter): void {
    const event = this.buckets.has(name) || this.buckets.size < MAX_EVENTS ? name : '(other)';
    let ring = this.buckets.get(event);
    if (ring === undefined) {
      ring = { minute: new Array(60).fill(-Infinity), counts: { published: [], handled: [], failed: [], deadLettered: [] } };
      for (const c of COUNTERS) ring.counts[c] = new Array(60).fill(0);
      this.buckets.set(event, ring);
    }
    const minute = Math.floor(Date.now() / MINUTE);
    const slot = minute % this.minutes;
    if (ring.minute[slot] !== minute) {
      ring.minute[slot] = minute;
      for (const c of COUNTERS) ring.counts[c][slot] = 0;
    }
    ring.counts[counter][slot]++;
  }
}
