import { performance } from 'node:perf_hooks';
import { FifoQueue } from '../fifo-queue.js';

/** Items dispatched per batch before the queue yields to the event loop. */
export const BATCH_SIZE = 2048;
/** A batch also yields once it ran this long (checked every CLOCK_EVERY items): slow handlers, busy machine. */
const MAX_BATCH_MS = 4;
const CLOCK_EVERY = 128;

/**
 * The queue between `publish` and the handlers, and its scheduling rule:
 * - never inside `publish`: the first batch runs as a microtask (low latency);
 * - at most BATCH_SIZE items (or about MAX_BATCH_MS of work) between two turns of the event loop, whoever adds them (the application,
 *   handlers publishing follow-ups, `events$` subscribers, retries, runs resumed from a slot): past
 *   that, the next batch waits for `setImmediate`, so timers and I/O keep running under a flood;
 * - items added while a batch runs are picked up by that batch or the next one, never by a microtask
 *   of their own (which would run before the event loop could turn).
 */
/** Who the queue hands items to (a method call, not a closure: this is the hottest loop of the bus). */
export interface QueueConsumer<T> {
  dispatchItem(item: T): void;
  /** A batch starts / ends: returns and gets back whatever the consumer needs to restore. */
  batchStarts(): unknown;
  batchEnds(token: unknown): void;
  /** The queue ran empty. */
  queueEmptied(): void;
}

export class DispatchQueue<T> {
  private readonly items = new FifoQueue<T>();
  private running = false;
  private scheduled = false;
  private flushing = false;
  /** Items dispatched since the event loop last turned (reset by a batch run from setImmediate). */
  private sinceYield = 0;

  constructor(private readonly consumer: QueueConsumer<T>) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    this.items.push(item);
    if (!this.scheduled && !this.flushing && this.running) this.schedule();
  }

  /** Starts dispatching; what was queued before goes first, in order. */
  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.items.length !== 0) this.schedule();
  }

  /** Stops for good: returns what was still queued. */
  stop(): T[] {
    this.running = false;
    const left: T[] = [];
    for (let item = this.items.shift(); item !== undefined; item = this.items.shift()) left.push(item);
    return left;
  }

  forEach(visit: (item: T) => void): void {
    this.items.forEach(visit);
  }

  private schedule(): void {
    this.scheduled = true;
    if (this.sinceYield < BATCH_SIZE) queueMicrotask(this.flush);
    else setImmediate(this.flushAfterYield);
  }

  private readonly flushAfterYield = (): void => {
    this.sinceYield = 0;
    this.flush();
  };

  private readonly flush = (): void => {
    this.scheduled = false;
    if (!this.running) return;
    this.flushing = true;
    const consumer = this.consumer;
    const token = consumer.batchStarts();
    try {
      const started = performance.now();
      for (let budget = BATCH_SIZE; budget > 0 && this.running; budget--) {
        const item = this.items.shift();
        if (item === undefined) break;
        this.sinceYield++;
        consumer.dispatchItem(item);
        if ((budget & (CLOCK_EVERY - 1)) === 0 && performance.now() - started > MAX_BATCH_MS) {
          this.sinceYield = BATCH_SIZE; // the next batch waits for the event loop
          break;
        }
      }
    } finally {
      this.flushing = false;
      consumer.batchEnds(token);
    }
    if (!this.running) return;
    if (this.items.length !== 0) {
      this.schedule();
    } else {
      // The backlog is gone: the next burst starts with a microtask again (low latency). A chain that
      // keeps the queue busy keeps counting, so it still yields every BATCH_SIZE items.
      this.sinceYield = 0;
      consumer.queueEmptied();
    }
  };
}
