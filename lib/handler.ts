import type { EventEnvelope } from './event-envelope.js';
import type { EventSelector } from './event-name.js';
import { FifoQueue } from './fifo-queue.js';
import type { HandlerOptions, HandlerPolicy } from './interfaces/handler-options.interface.js';
import type { RetryPolicy } from './interfaces/retry-policy.interface.js';

/** Resolves the instance a handler runs on for one event (request-scoped / durable providers). */
export type InstanceResolver = (envelope: EventEnvelope) => Promise<object>;

/** How one attempt calls user code: `instance` is undefined for `on()` listeners. */
export type HandlerInvoker = (instance: any, payload: unknown, envelope: EventEnvelope) => unknown;

/** A run waiting for a free concurrency slot. */
export interface WaitingRun {
  envelope: EventEnvelope;
  tracker: DeliveryTrackerLike | undefined;
}

export interface DeliveryTrackerLike {
  readonly redeliverable: boolean;
  settle(handler: string, ok: boolean, error?: unknown): void;
  skip(): void;
}

/**
 * A registered handler at run time: what to call, its resolved policies, and its concurrency state.
 * One `@OnEvent` decorator (or one `on()` listener) is one Handler, whatever number of events it lists.
 */
export class Handler {
  /** Runs started and not yet finished (a run keeps its slot through its retries). */
  inFlight = 0;
  /** Set while this handler's waiting runs are being started, to avoid recursing through them. */
  startingWaiting = false;
  /** For an `on()` listener: the one event it was added for (set semantics of on/off). */
  selector: EventSelector | undefined = undefined;
  /** Runs waiting for a free slot; created on first need (most handlers never wait). */
  waiting: FifoQueue<WaitingRun> | undefined = undefined;

  readonly concurrency: number;
  readonly priority: number;
  readonly filter: HandlerOptions['filter'];

  constructor(
    /** `'Class.method'` or the listener's name. */
    readonly label: string,
    /** Identity of the thing called: two registrations with the same target run once per event. */
    readonly target: object,
    readonly invoke: HandlerInvoker,
    /** The instance for static providers; undefined for listeners and scoped providers. */
    readonly instance: object | undefined,
    /** Set for providers whose dependency tree is not static. */
    readonly resolveInstance: InstanceResolver | undefined,
    /** The options as declared (for `handlers()`). */
    readonly options: HandlerOptions,
    /** The named policy, else the module defaults: what applies where `options` is silent. */
    defaults: HandlerPolicy,
    /** Registration order, to keep sorting stable. */
    readonly sequence: number,
  ) {
    this.retry = options.retry ?? defaults.retry;
    const concurrency = options.concurrency ?? defaults.concurrency;
    this.concurrency = concurrency === undefined || concurrency <= 0 ? Infinity : Math.floor(concurrency);
    this.priority = options.priority ?? defaults.priority ?? 0;
    this.filter = options.filter;
  }

  readonly retry: RetryPolicy | undefined;

  /** Total tries, the first included. */
  get attempts(): number {
    return Math.max(1, Math.floor(this.retry?.attempts ?? 1));
  }

  waitingRuns(): FifoQueue<WaitingRun> {
    return (this.waiting ??= new FifoQueue<WaitingRun>());
  }

  /** Delay before attempt `nextAttempt` (2, 3, ...). */
  delayBefore(nextAttempt: number): number {
    const backoff = this.retry?.backoff;
    if (backoff === undefined) return 0;
    const factor = backoff.factor ?? 2;
    let delay = backoff.initialDelayMs * Math.pow(factor, nextAttempt - 2);
    if (backoff.maxDelayMs !== undefined) delay = Math.min(delay, backoff.maxDelayMs);
    if (backoff.jitter) delay = Math.random() * delay;
    return Math.max(0, delay);
  }
}
