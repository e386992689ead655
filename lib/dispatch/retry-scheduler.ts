import { startTimer, type CancelTimer } from '../timers.js';
import type { PendingRun } from './pending-run.js';

/**
 * Runs waiting for their retry delay. When the delay is over the run is handed back (to the dispatch
 * queue, so a storm of retries drains in batches like any backlog); at shutdown they are cancelled.
 */
export class RetryScheduler {
  private readonly waiting = new Map<PendingRun, CancelTimer>();

  constructor(private readonly due: (run: PendingRun) => void) {}

  schedule(run: PendingRun, delayMs: number): void {
    this.waiting.set(
      run,
      startTimer(delayMs, () => {
        this.waiting.delete(run);
        this.due(run);
      }),
    );
  }

  /** Cancels every scheduled retry and returns the runs, so their deliveries can be settled. */
  cancelAll(): PendingRun[] {
    const runs = [...this.waiting.keys()];
    for (const cancel of this.waiting.values()) cancel();
    this.waiting.clear();
    return runs;
  }

  countUnfinished(add: (label: string, runs: number) => void): void {
    for (const run of this.waiting.keys()) add(run.handler.label, 1);
  }
}
