import type { EventEnvelope } from './event-envelope.js';
import type { DeliveryTrackerLike } from './handler.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';

/** Counts one event's handler outcomes and resolves its DeliveryReport when the last one settles. */
export class DeliveryTracker implements DeliveryTrackerLike {
  private remaining = -1;
  private readonly report: DeliveryReport;

  constructor(
    envelope: EventEnvelope,
    private readonly resolve: (report: DeliveryReport) => void,
    /** A broker will deliver the event again if a handler fails: failures here are not dead letters yet. */
    readonly redeliverable = false,
  ) {
    this.report = { envelope, handled: 0, failed: [] };
  }

  /** Called at dispatch with the number of handlers that will settle. */
  expect(count: number): void {
    this.remaining = count;
    if (count === 0) this.resolve(this.report);
  }

  settle(handler: string, ok: boolean, error?: unknown): void {
    if (ok) this.report.handled++;
    else this.report.failed.push({ handler, error });
    this.done();
  }

  skip(): void {
    this.done();
  }

  private done(): void {
    if (--this.remaining === 0) this.resolve(this.report);
  }
}
