import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Subject } from 'rxjs';
import { DeliveryTracker } from './delivery-tracker.js';
import type { Envelope, EventEnvelope } from './event-envelope.js';
import { describeEventName } from './event-name.js';
import { FifoQueue } from './fifo-queue.js';
import type { DeliveryTrackerLike, Handler, InstanceResolver } from './handler.js';
import type { HandlerRegistry } from './handler-registry.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';
import type { HandlerFailure } from './interfaces/handler-failure.interface.js';

/** Events dispatched per macrotask before yielding, so timers and I/O keep turning under a flood. */
const BATCH_SIZE = 2048;

/** A queued event someone waits on (publishAndWait, transport deliveries): the rare, heavier case. */
class TrackedDelivery {
  constructor(
    readonly envelope: Envelope,
    readonly tracker: DeliveryTracker,
    readonly skipHandlers: ReadonlySet<string> | undefined,
  ) {}
}

/**
 * Runs handlers: the event queue and its batched flush, per-handler concurrency slots, retries with
 * backoff, failure isolation, and the bookkeeping that `drain()` and shutdown wait on.
 */
export class Dispatcher {
  /**
   * The envelope being handled, for causation and correlation of events published by handlers, across
   * `await`s. Undefined with `asyncContext: false`: then only `syncEnvelope` tracks it.
   */
  readonly context: AsyncLocalStorage<EventEnvelope> | undefined;
  /** The envelope of the handler running synchronously right now (always tracked, costs nothing). */
  private syncEnvelope: EventEnvelope | undefined = undefined;
  readonly events$ = new Subject<EventEnvelope>();
  readonly errors$ = new Subject<HandlerFailure>();
  readonly deadLetters$ = new Subject<HandlerFailure>();

  private readonly queue = new FifoQueue<Envelope | TrackedDelivery>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly scopedInstances = new WeakMap<EventEnvelope, Map<InstanceResolver, Promise<object>>>();
  private idleWaiters: (() => void)[] = [];

  /** Handler runs started or waiting and not yet settled (async runs, slots, retry timers). */
  private pending = 0;
  /** Handlers executing synchronously right now (nested when a handler's publish is dispatched inline). */
  private syncDepth = 0;
  private flushScheduled = false;
  private running = false;
  /**
   * True while a flush batch runs handlers: they then enter their envelope's async context with one
   * `enterWith` each (restored when the batch ends) instead of a full `run()` per handler.
   */
  private inBatch = false;

  constructor(
    private readonly registry: HandlerRegistry,
    private readonly logger: LoggerService,
    asyncContext: boolean,
  ) {
    this.context = asyncContext ? new AsyncLocalStorage<EventEnvelope>() : undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * The envelope whose handler is running here, if any. When no handler is running or in flight the
   * AsyncLocalStorage lookup is skipped: that is every publish from outside handlers, the common case.
   * (So work a handler leaves running after it settled, fire-and-forget, publishes without causation.)
   */
  currentEnvelope(): EventEnvelope | undefined {
    if (this.syncDepth !== 0) return this.syncEnvelope;
    return this.pending === 0 || this.context === undefined ? undefined : this.context.getStore();
  }

  get isIdle(): boolean {
    return this.pending === 0 && this.queue.length === 0;
  }

  /** Starts dispatching (what was queued before is delivered first, in order). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.scheduleFlush();
  }

  enqueue(envelope: Envelope): void {
    this.queue.push(envelope);
    if (!this.flushScheduled && this.running) this.scheduleFlush();
  }

  /** Queues an event and resolves with its DeliveryReport once every handler settled. */
  enqueueAndTrack(envelope: Envelope, skipHandlers?: ReadonlySet<string>, redeliverable = false): Promise<DeliveryReport> {
    return new Promise((resolve) => {
      this.queue.push(new TrackedDelivery(envelope, new DeliveryTracker(envelope, resolve, redeliverable), skipHandlers));
      if (!this.flushScheduled && this.running) this.scheduleFlush();
    });
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.isIdle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Handler runs not yet finished, by handler label, plus queued events' handlers. */
  unfinishedByHandler(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (label: string, n: number) => n > 0 && counts.set(label, (counts.get(label) ?? 0) + n);
    for (const handler of this.registry.handlers()) add(handler.label, handler.inFlight + (handler.waiting?.length ?? 0));
    this.queue.forEach((item) => {
      const envelope = item instanceof TrackedDelivery ? item.envelope : item;
      for (const handler of this.registry.resolve(envelope.name, envelope.payload)) add(handler.label, 1);
    });
    return counts;
  }

  /** Gives up on what is left (after the shutdown timeout): pending retries are cancelled. */
  abandon(): void {
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    this.queue.clear();
    this.running = false;
  }

  private scheduleFlush(): void {
    this.flushScheduled = true;
    // The first batch runs as a microtask (low latency, still outside publish's call stack);
    // later batches yield to the event loop.
    queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (!this.running) return;
    const outerContext = this.context?.getStore();
    this.inBatch = true;
    try {
      for (let budget = BATCH_SIZE; budget > 0; budget--) {
        const item = this.queue.shift();
        if (item === undefined) break;
        if (item instanceof TrackedDelivery) this.dispatch(item.envelope, item.tracker, item.skipHandlers, outerContext);
        else this.dispatch(item, undefined, undefined, outerContext);
      }
    } finally {
      this.inBatch = false;
      this.context?.enterWith(outerContext as EventEnvelope);
    }
    if (this.queue.length !== 0) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    } else {
      this.checkIdle();
    }
  };

  private dispatch(
    envelope: Envelope,
    tracker: DeliveryTracker | undefined,
    skip: ReadonlySet<string> | undefined,
    outerContext: EventEnvelope | undefined,
  ): void {
    if (this.events$.observed) {
      // Subscribers must not see the previous handler's context.
      this.context?.enterWith(outerContext as EventEnvelope);
      this.emitSafely(this.events$, envelope);
    }
    const handlers = this.registry.resolve(envelope.name, envelope.payload);
    if (tracker !== undefined) {
      let count = handlers.length;
      if (skip !== undefined) for (const h of handlers) if (skip.has(h.label)) count--;
      tracker.expect(count);
    }
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i];
      if (skip !== undefined && skip.has(handler.label)) continue;
      if (handler.inFlight >= handler.concurrency) {
        this.pending++;
        handler.waitingRuns().push({ envelope, tracker });
      } else {
        handler.inFlight++;
        this.attempt(handler, envelope, 1, tracker);
      }
    }
  }

  /** One attempt of one handler. The handler holds its concurrency slot until `settle`. */
  private attempt(handler: Handler, envelope: EventEnvelope, attempt: number, tracker: DeliveryTrackerLike | undefined): void {
    if (handler.resolveInstance !== undefined) {
      this.pending++;
      this.scopedInstance(handler, envelope).then(
        (instance) => {
          this.pending--;
          this.run(handler, instance, envelope, attempt, tracker);
        },
        (error: unknown) => {
          this.pending--;
          this.fail(handler, envelope, attempt, tracker, error);
        },
      );
      return;
    }
    this.run(handler, handler.instance, envelope, attempt, tracker);
  }

  private run(
    handler: Handler,
    instance: object | undefined,
    envelope: EventEnvelope,
    attempt: number,
    tracker: DeliveryTrackerLike | undefined,
  ): void {
    const seen = attempt === 1 ? envelope : (envelope as Envelope).withAttempt(attempt);
    let result: unknown;
    try {
      if (handler.filter !== undefined && !handler.filter(seen.payload, seen)) {
        this.settle(handler, tracker, undefined, undefined);
        return;
      }
      const outerSync = this.syncEnvelope;
      this.syncEnvelope = seen;
      this.syncDepth++;
      try {
        if (this.context === undefined) result = handler.invoke(instance, seen.payload, seen);
        else if (this.inBatch) {
          this.context.enterWith(seen);
          result = handler.invoke(instance, seen.payload, seen);
        } else {
          result = this.context.run(seen, handler.invoke, instance, seen.payload, seen);
        }
      } finally {
        this.syncDepth--;
        this.syncEnvelope = outerSync;
      }
    } catch (error) {
      this.fail(handler, envelope, attempt, tracker, error);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      this.pending++;
      (result as PromiseLike<unknown>).then(
        () => {
          this.pending--;
          this.settle(handler, tracker, true, undefined);
        },
        (error: unknown) => {
          this.pending--;
          this.fail(handler, envelope, attempt, tracker, error);
        },
      );
    } else {
      this.settle(handler, tracker, true, undefined);
    }
  }

  private fail(
    handler: Handler,
    envelope: EventEnvelope,
    attempt: number,
    tracker: DeliveryTrackerLike | undefined,
    error: unknown,
  ): void {
    const lastAttempt = attempt >= handler.attempts;
    // With a broker that redelivers, giving up here is not final: the next delivery retries.
    const redelivered = lastAttempt && tracker !== undefined && tracker.redeliverable;
    const final = lastAttempt && !redelivered;
    const seen = attempt === 1 ? envelope : (envelope as Envelope).withAttempt(attempt);
    const failure: HandlerFailure = { envelope: seen, handler: handler.label, error, attempt, final };
    if (this.errors$.observed) this.emitSafely(this.errors$, failure);
    const what = `${handler.label} failed on event ${describeEventName(envelope.name)} (id ${envelope.id}), attempt ${attempt}/${handler.attempts}`;
    if (redelivered) {
      this.logger.warn(`${what}; the broker will redeliver it: ${errorMessage(error)}`);
      this.settle(handler, tracker, false, error);
      return;
    }
    if (!lastAttempt) {
      const delay = handler.delayBefore(attempt + 1);
      this.logger.warn(`${what}; retrying in ${Math.round(delay)}ms: ${errorMessage(error)}`);
      this.pending++;
      const timer = setTimeout(() => {
        this.retryTimers.delete(timer);
        this.pending--;
        this.attempt(handler, envelope, attempt + 1, tracker);
      }, delay);
      this.retryTimers.add(timer);
      return;
    }
    this.logger.error(`${what}; dead-lettered: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
    if (this.deadLetters$.observed) this.emitSafely(this.deadLetters$, failure);
    this.settle(handler, tracker, false, error);
  }

  /** A run is over (ok: true success, false dead-lettered, undefined filtered out): free its slot. */
  private settle(handler: Handler, tracker: DeliveryTrackerLike | undefined, ok: boolean | undefined, error: unknown): void {
    handler.inFlight--;
    if (tracker !== undefined) {
      if (ok === undefined) tracker.skip();
      else tracker.settle(handler.label, ok, error);
    }
    const waiting = handler.waiting;
    if (waiting !== undefined && waiting.length !== 0 && !handler.startingWaiting) {
      // A loop rather than recursion: a waiting run may finish synchronously and free the slot again.
      handler.startingWaiting = true;
      while (waiting.length !== 0 && handler.inFlight < handler.concurrency) {
        const next = waiting.shift()!;
        this.pending--;
        handler.inFlight++;
        this.attempt(handler, next.envelope, 1, next.tracker);
      }
      handler.startingWaiting = false;
    }
    if (this.pending === 0 && this.idleWaiters.length !== 0) this.checkIdle();
  }

  private scopedInstance(handler: Handler, envelope: EventEnvelope): Promise<object> {
    // One instance per event and provider (its handlers share one resolver); retries reuse it.
    const resolve = handler.resolveInstance!;
    let perEvent = this.scopedInstances.get(envelope);
    if (perEvent === undefined) {
      perEvent = new Map();
      this.scopedInstances.set(envelope, perEvent);
    }
    let instance = perEvent.get(resolve);
    if (instance === undefined) {
      instance = resolve(envelope);
      perEvent.set(resolve, instance);
    }
    return instance;
  }

  private checkIdle(): void {
    if (!this.isIdle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** A throwing subscriber must not break dispatch. */
  private emitSafely<T>(subject: Subject<T>, value: T): void {
    try {
      subject.next(value);
    } catch (error) {
      this.logger.error(`An EventBus subscriber threw: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
    }
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
