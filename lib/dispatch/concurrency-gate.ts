import { FifoQueue } from '../fifo-queue.js';
import type { Handler } from '../handler.js';
import type { PendingRun } from './pending-run.js';

interface SlotState {
  inFlight: number;
  waiting: FifoQueue<PendingRun>;
}

/**
 * Per-handler concurrency slots. Only handlers with a limit keep state here (unlimited ones, the
 * default, cost nothing); a run holds its slot from its first try until it settles, retries included,
 * and a freed slot passes straight to the oldest waiting run, so `concurrency: 1` keeps publish order.
 */
export class ConcurrencyGate {
  private readonly slots = new Map<Handler, SlotState>();

  /** Takes a slot if one is free. */
  tryEnter(handler: Handler): boolean {
    if (handler.concurrency === Infinity) return true;
    let state = this.slots.get(handler);
    if (state === undefined) {
      state = { inFlight: 0, waiting: new FifoQueue<PendingRun>() };
      this.slots.set(handler, state);
    }
    if (state.inFlight >= handler.concurrency) return false;
    state.inFlight++;
    return true;
  }

  /** Queues a run behind the busy slots of its handler (call after `tryEnter` said no). */
  wait(run: PendingRun): void {
    this.slots.get(run.handler)!.waiting.push(run);
  }

  /** Frees a slot. Returns the waiting run the slot was handed to, which must then be started. */
  leave(handler: Handler): PendingRun | undefined {
    if (handler.concurrency === Infinity) return undefined;
    const state = this.slots.get(handler);
    if (state === undefined) return undefined;
    const next = state.waiting.shift();
    if (next !== undefined) return next;
    if (--state.inFlight === 0) this.slots.delete(handler);
    return undefined;
  }

  /** Removes and returns the runs waiting for a slot: of one handler (`off()`), or of all (shutdown). */
  takeWaiting(handler?: Handler): PendingRun[] {
    const taken: PendingRun[] = [];
    for (const [owner, state] of this.slots) {
      if (handler !== undefined && owner !== handler) continue;
      for (let run = state.waiting.shift(); run !== undefined; run = state.waiting.shift()) taken.push(run);
    }
    return taken;
  }

  /** Runs waiting for a slot, by handler label (for shutdown and drain-timeout reports). */
  countUnfinished(add: (label: string, runs: number) => void): void {
    for (const [handler, state] of this.slots) add(handler.label, state.waiting.length);
  }

  /** Runs waiting for a slot, all handlers together. */
  get waiting(): number {
    let total = 0;
    for (const state of this.slots.values()) total += state.waiting.length;
    return total;
  }
}
