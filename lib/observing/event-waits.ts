import type { Subject } from 'rxjs';
import { EventBusClosedError, InvalidEventError, WaitForTimeoutError } from '../errors.js';
import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName, type EventSelector } from '../event-name.js';
import { envelopeMatcher } from '../event-selector-matcher.js';
import { startTimer } from '../timers.js';

export interface WaitForOptions {
  filter?: (envelope: EventEnvelope) => boolean;
  /** Default: no timeout (`Infinity`). */
  timeoutMs?: number;
}

/**
 * `EventBus.waitFor()`: the next matching event, a timeout of any length, and no wait left behind:
 * a timed-out wait unsubscribes, and waits still pending when the bus shut down reject.
 */
export class EventWaits {
  private readonly pending = new Set<() => void>();
  private closed = false;

  constructor(private readonly events$: Subject<EventEnvelope>) {}

  waitFor<T>(selector: EventSelector, options: WaitForOptions): Promise<EventEnvelope<T>> {
    const matches = envelopeMatcher(selector);
    const { filter, timeoutMs = Infinity } = options;
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      throw new InvalidEventError(`waitFor(): timeoutMs must be a number of ms >= 0 (or Infinity), got ${String(timeoutMs)}.`);
    }
    const label = describeEventName(selector);
    if (this.closed) return Promise.reject(new EventBusClosedError(label, 'waitFor'));
    return new Promise<EventEnvelope<T>>((resolve, reject) => {
      const abandon = (): void => {
        finish();
        reject(new EventBusClosedError(label, 'waitFor'));
      };
      this.pending.add(abandon);
      const subscription = this.events$.subscribe((envelope) => {
        let found: boolean;
        try {
          found = matches(envelope) && (filter === undefined || filter(envelope));
        } catch (error) {
          finish();
          return reject(error);
        }
        if (!found) return;
        finish();
        resolve(envelope as EventEnvelope<T>);
      });
      const cancelTimer = startTimer(timeoutMs, () => {
        finish();
        reject(new WaitForTimeoutError(label, timeoutMs));
      });
      const finish = () => {
        subscription.unsubscribe();
        cancelTimer();
        this.pending.delete(abandon);
      };
    });
  }

  /** The bus shut down: no event will be dispatched any more, so every wait settles now. */
  close(): void {
    this.closed = true;
    for (const abandon of [...this.pending]) abandon();
  }
}
