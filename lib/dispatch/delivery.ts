import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';

/** The `failed` list of every report without failures (most of them): one shared, frozen array. */
const NO_FAILURES: DeliveryReport['failed'] = Object.freeze([]) as unknown as DeliveryReport['failed'];

/**
 * One event's way through its handlers, when somebody needs to know when it is over: a caller of
 * `publishAndWait`, a transport waiting to acknowledge, or the `maxQueued` bound. Counts the runs still
 * to settle and builds the DeliveryReport. (Plain `publish()` with no bound has no Delivery: the hot path.)
 */
export class Delivery {
  /** Runs still to settle; -1 until dispatch said how many handlers there are. */
  private remaining = -1;
  /** Follow-up work this delivery waits for besides its runs (sends of events its handlers published). */
  private held = 0;
  private done = false;
  readonly report: DeliveryReport;
  /** Links of the dispatcher's list of awaited deliveries (a list: no hashing on this hot path). */
  previous: Delivery | undefined = undefined;
  next: Delivery | undefined = undefined;

  constructor(
    readonly envelope: EventEnvelope,
    /** Handlers (`'Class.method'`) already done with this event in an earlier delivery: not run again. */
    readonly skipHandlers: ReadonlySet<string> | undefined,
    /** A broker will deliver the event again if a handler fails: failures here are not dead letters yet. */
    readonly redeliverable: boolean,
    private readonly finished: (delivery: Delivery) => void,
    private readonly resolve: ((report: DeliveryReport) => void) | undefined,
    private readonly reject: ((error: unknown) => void) | undefined,
  ) {
    this.report = { envelope, handled: 0, failed: NO_FAILURES };
  }

  get isOver(): boolean {
    return this.done;
  }

  /** Called at dispatch with the number of handler runs that will settle. */
  expect(runs: number): void {
    this.remaining = runs;
    if (runs === 0 && this.held === 0) this.finish();
  }

  /**
   * Makes the delivery wait for `work` too: a transport acknowledges a consumed event only once the
   * events its handlers published were accepted by the broker. If `work` fails, the delivery fails
   * (rejects), so the consumed event is not acknowledged and comes back.
   */
  hold(work: Promise<unknown>): void {
    if (this.done) return;
    this.held++;
    work.then(
      () => {
        if (--this.held === 0 && this.remaining === 0) this.finish();
      },
      (error: unknown) => this.abandon(error),
    );
  }

  /** A run is over: `ok` true succeeded, false dead-lettered (or left to the broker), undefined filtered out or dropped. */
  settle(handler: string, ok: boolean | undefined, error?: unknown): void {
    if (ok === true) this.report.handled++;
    else if (ok === false) {
      if (this.report.failed === NO_FAILURES) this.report.failed = [];
      this.report.failed.push({ handler, error });
    }
    if (--this.remaining === 0 && this.held === 0) this.finish();
  }

  /** The bus gave up on this event (shutdown): whoever waits learns why. */
  abandon(error: unknown): void {
    if (this.done) return;
    this.done = true;
    this.finished(this);
    this.reject?.(error);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.finished(this);
    this.resolve?.(this.report);
  }
}
