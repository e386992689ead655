import { Subject, type Subscription } from 'rxjs';
import type { EventEnvelope } from '../event-envelope.js';
import { EventBus } from '../event-bus.js';
import type { EventClass, EventSelector } from '../event-name.js';
import { envelopeMatcher } from '../event-selector-matcher.js';
import { startTimer } from '../timers.js';
import { DrainTimeoutError, EventBusNotReadyError } from '../errors.js';
import type { UntypedEvents } from '../event-map.js';
import type { HandlerFailure } from '../interfaces/handler-failure.interface.js';
import { eventLabel } from './describe-events.js';
import type { FailureQuery, RecordedFailure } from './recorded-failure.js';
import { EventBusNotFoundError, EventNotPublishedError, SettleTimeoutError, UnexpectedHandlerFailureError } from './testing-errors.js';

/** The default of `waitFor()` and `settle()`: below Jest's 5s test timeout, so our message wins. */
export const DEFAULT_TESTING_TIMEOUT_MS = 2000;

/** The payload type an event selector stands for: a class's instances, an event map's entry, else unknown. */
export type PayloadOf<TEvents, S> = S extends EventClass<infer I> ? I : S extends keyof TEvents ? TEvents[S] : unknown;

export interface EventRecorderOptions {
  /** Default timeout of `waitFor()` and `settle()`, in ms. Default 2000; `Infinity` waits forever. */
  timeoutMs?: number;
}

export interface RecorderWaitForOptions<TPayload = unknown> {
  /** Only an event for which this returns true counts. */
  where?: (payload: TPayload, envelope: EventEnvelope<TPayload>) => boolean;
  /** Default: the recorder's (2000 unless set); `Infinity` waits forever. */
  timeoutMs?: number;
}

export interface SettleOptions {
  /** Default: the recorder's (2000 unless set); `Infinity` waits forever. */
  timeoutMs?: number;
}

/** Anything that can hand out the bus: a TestingModule, an application, a ModuleRef. */
export interface EventBusHost {
  get<T = unknown>(token: unknown, options?: { strict?: boolean }): T;
}

/**
 * Records every event dispatched on one application's bus, in order, with its envelope, and every
 * handler failure; lets a test wait for the bus to go idle or for one event, without sleeps.
 *
 * Events are recorded when dispatched (what handlers see, in the order they see it), so attach before
 * `init()` to also see events published during start-up: `createEventTestingModule()` does.
 */
export class EventRecorder<TEvents extends object = UntypedEvents> {
  private events: EventEnvelope[] = [];
  private attempts: HandlerFailure[] = [];
  private readonly recorded$ = new Subject<EventEnvelope>();
  private readonly subscriptions: Subscription[] = [];
  private readonly timeoutMs: number;

  /** Starts recording on the bus of a compiled TestingModule, an application, or on an EventBus. */
  static attach<TEvents extends object = UntypedEvents>(source: EventBus | EventBusHost, options: EventRecorderOptions = {}): EventRecorder<TEvents> {
    return new EventRecorder<TEvents>(source instanceof EventBus ? source : findBus(source), options);
  }

  constructor(
    readonly bus: EventBus,
    options: EventRecorderOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TESTING_TIMEOUT_MS;
    this.subscriptions.push(
      bus.events$.subscribe((envelope) => {
        this.events.push(envelope);
        this.recorded$.next(envelope);
      }),
      bus.errors$.subscribe((failure) => this.attempts.push(failure)),
    );
  }

  // ---------------------------------------------------------------- queries

  /** The recorded events matching a name, pattern or class (all without one), in dispatch order. */
  published<S extends EventSelector>(selector?: S): EventEnvelope<PayloadOf<TEvents, S>>[] {
    if (selector === undefined) return [...this.events] as EventEnvelope<PayloadOf<TEvents, S>>[];
    const matches = envelopeMatcher(selector);
    return this.events.filter(matches) as EventEnvelope<PayloadOf<TEvents, S>>[];
  }

  /** The payloads of `published(selector)`. */
  payloads<S extends EventSelector>(selector?: S): PayloadOf<TEvents, S>[] {
    return this.published(selector).map((envelope) => envelope.payload);
  }

  /** The names of every recorded event, in order: `expect(recorder.names()).toEqual([...])`. */
  names(): (string | symbol)[] {
    return this.events.map((envelope) => envelope.name);
  }

  /** How many recorded events match (all without a selector). */
  count(selector?: EventSelector): number {
    return selector === undefined ? this.events.length : this.published(selector).length;
  }

  /** The most recent matching event; throws EventNotPublishedError, listing what was published, if none. */
  last<S extends EventSelector>(selector?: S): EventEnvelope<PayloadOf<TEvents, S>> {
    const found = this.published(selector);
    if (found.length === 0) throw new EventNotPublishedError(selector === undefined ? 'any' : eventLabel(selector), this.events, undefined, 0);
    return found[found.length - 1];
  }

  /** Forgets recorded events and failures: the next phase of a test starts from a clean slate. */
  clear(): void {
    this.events = [];
    this.attempts = [];
  }

  // ---------------------------------------------------------------- failures

  /** Handlers that gave up on an event (last attempt failed), in order: handler, event, error, attempts. */
  failures(query: FailureQuery = {}): RecordedFailure[] {
    const matchesEvent = query.event === undefined ? undefined : envelopeMatcher(query.event);
    return this.attempts
      .filter((f) => f.final)
      .filter((f) => query.handler === undefined || f.handler === query.handler || f.handler.startsWith(`${query.handler}.`))
      .filter((f) => matchesEvent === undefined || matchesEvent(f.envelope))
      .map((f) => ({ event: f.envelope.name, handler: f.handler, error: f.error, attempts: f.attempt, envelope: f.envelope }));
  }

  /** Every failed attempt, retried ones included, as emitted on `errors$`. */
  failedAttempts(): HandlerFailure[] {
    return [...this.attempts];
  }

  /** Throws UnexpectedHandlerFailureError, naming each handler, event, attempt count and error, if any handler gave up. */
  assertNoFailures(): void {
    const failures = this.failures();
    if (failures.length !== 0) throw new UnexpectedHandlerFailureError(failures);
  }

  // ---------------------------------------------------------------- waiting

  /**
   * Resolves once nothing is queued or running on the bus: handlers finished, retries included, and
   * events they published handled too. Rejects with EventBusNotReadyError (saying what to call) if
   * events were published before the application was initialised, and with SettleTimeoutError past
   * the timeout.
   */
  async settle(options: SettleOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    try {
      await this.bus.drain(Number.isFinite(timeoutMs) ? timeoutMs : undefined);
    } catch (error) {
      if (error instanceof EventBusNotReadyError) throw new EventBusNotReadyError('recorder.settle()');
      if (error instanceof DrainTimeoutError) throw new SettleTimeoutError(timeoutMs, error.unfinished, this.events);
      throw error;
    }
  }

  /**
   * Resolves with the first recorded event (since the recorder started or the last `clear()`) that
   * matches the selector and `where`, waiting for it if none is there yet. Rejects with
   * EventNotPublishedError, listing what was published instead, past the timeout; with
   * EventBusNotReadyError if events wait for an `init()` that was not called.
   */
  waitFor<S extends EventSelector>(selector: S, options: RecorderWaitForOptions<PayloadOf<TEvents, S>> = {}): Promise<EventEnvelope<PayloadOf<TEvents, S>>> {
    type Found = EventEnvelope<PayloadOf<TEvents, S>>;
    const matchesSelector = envelopeMatcher(selector);
    const where = options.where as ((payload: unknown, envelope: EventEnvelope) => boolean) | undefined;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const label = eventLabel(selector);

    return new Promise<Found>((resolve, reject) => {
      let cancelTimer = (): void => undefined;
      let done = false;
      // Subscribed before the history is searched and the bus probed, so nothing slips in between.
      const subscription = this.recorded$.subscribe((envelope) => check(envelope));
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        subscription.unsubscribe();
        cancelTimer();
        settle();
      };
      const check = (envelope: EventEnvelope): boolean => {
        if (!matchesSelector(envelope)) return false;
        let accepted: boolean;
        try {
          accepted = where === undefined || where(envelope.payload, envelope);
        } catch (error) {
          finish(() => reject(whereThrew(label, envelope, error)));
          return true;
        }
        if (accepted) finish(() => resolve(envelope as Found));
        return accepted;
      };
      for (const envelope of this.events) if (check(envelope) || done) return;

      // Events published before init() stay queued: waiting would hang, so say what to call instead.
      const notReady = this.bus.notReadyError(`recorder.waitFor(${label})`);
      if (notReady !== undefined) return finish(() => reject(notReady));
      cancelTimer = startTimer(timeoutMs, () => {
        const rejected = this.events.filter(matchesSelector).length;
        finish(() => reject(new EventNotPublishedError(label, this.events, timeoutMs, where === undefined ? 0 : rejected)));
      });
    });
  }

  /** Stops recording. Pending waits keep waiting for their timeout. */
  detach(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
  }
}

function findBus(source: EventBusHost): EventBus {
  try {
    return source.get<EventBus>(EventBus, { strict: false });
  } catch (error) {
    throw new EventBusNotFoundError(error);
  }
}

function whereThrew(label: string, envelope: EventEnvelope, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`recorder.waitFor(${label}): the \`where\` predicate threw on event id ${envelope.id}: ${reason}`, { cause: error });
}
