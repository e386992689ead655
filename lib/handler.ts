import type { EventEnvelope } from './event-envelope.js';
import type { EventSelector } from './event-name.js';
import type { HandlerOptions, HandlerPolicy } from './interfaces/handler-options.interface.js';
import type { RetryPolicy } from './interfaces/retry-policy.interface.js';

/** Resolves the instance a handler runs on for one event (request-scoped / durable providers). */
export type InstanceResolver = (envelope: EventEnvelope) => Promise<object>;

/** How one attempt calls user code: `instance` is undefined for `on()` listeners. */
export type HandlerInvoker = (instance: any, payload: unknown, envelope: EventEnvelope, ...extra: unknown[]) => unknown;

/**
 * One registration, as data: what to call and the policies that apply to it (module defaults and a
 * named policy already merged in). One `@OnEvent` decorator (or one `on()` listener) is one Handler,
 * whatever number of events it lists. Run-time state (slots, waiting runs, retries) lives in dispatch/;
 * the one exception is `runningAsync`, a counter kept here because a Map keyed by handler costs more
 * than the rest of a `publishAndWait` (it is on the path of every asynchronous handler run).
 */
export class Handler {
  /** Owned by the Dispatcher: runs of this handler waiting on a returned promise, for unfinished-work reports. */
  runningAsync = 0;
  /** For an `on()` listener: the one event it was added for (set semantics of on/off). */
  selector: EventSelector | undefined = undefined;
  /** Set by `off()`: runs not started yet are dropped. */
  removed = false;

  readonly retry: RetryPolicy | undefined;
  /** Max runs in flight; Infinity = no limit. */
  readonly concurrency: number;
  readonly priority: number;
  readonly filter: HandlerOptions['filter'];
  /** Total tries, the first included. */
  readonly attempts: number;

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
    this.concurrency = options.concurrency ?? defaults.concurrency ?? Infinity;
    this.priority = options.priority ?? defaults.priority ?? 0;
    this.filter = options.filter;
    this.attempts = this.retry?.attempts ?? 1;
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
