import type { LoggerService } from '@nestjs/common';
import { Subject } from 'rxjs';
import { DeliveryAbandonedError } from '../errors.js';
import { Envelope, type EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import type { Handler } from '../handler.js';
import type { BusInstrumentation, HandlerRunOutcome } from '../instrumentation/bus-instrumentation.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { HandlerRegistry } from '../registration/handler-registry.js';
import { AwaitedDeliveries } from './awaited-deliveries.js';
import { ConcurrencyGate } from './concurrency-gate.js';
import { ConsumedChains } from './consumed-chains.js';
import { Delivery } from './delivery.js';
import { DispatchQueue, type QueueConsumer } from './dispatch-queue.js';
import { FailureReporter } from './failure-reporter.js';
import { HandlerContext } from './handler-context.js';
import { runHandler, type RunOutcomeListener } from './handler-run.js';
import { IdleWaiters } from './idle-waiters.js';
import { ObservedRun } from './observed-run.js';
import { PendingRun } from './pending-run.js';
import { RetryScheduler } from './retry-scheduler.js';
import { ScopedInstances } from './scoped-instances.js';

/** What the dispatch queue carries: a plain event, an event someone waits on, or a run to resume. */
type QueueItem = Envelope | Delivery | PendingRun;

/**
 * From the queue to the handlers: resolves an event's handlers, starts one run per handler through its
 * concurrency slot, and decides what follows each run (done, retry later, redelivery, dead letter).
 * Keeps the count of unfinished runs that `drain()`, shutdown and causation lookups rely on.
 */
export class Dispatcher implements RunOutcomeListener, QueueConsumer<QueueItem> {
  readonly context: HandlerContext;
  readonly failures: FailureReporter;
  readonly events$ = new Subject<EventEnvelope>();
  /** Every successful handler run (for the events page's rates); emitted only while observed. */
  readonly handled$ = new Subject<{ envelope: EventEnvelope; handler: string }>();
  private readonly queue: DispatchQueue<QueueItem>;
  private readonly gate = new ConcurrencyGate();
  private readonly retries = new RetryScheduler((run) => this.queue.push(run));
  private readonly scopedInstances = new ScopedInstances();
  private readonly idleWaiters = new IdleWaiters();
  /** Deliveries somebody awaits: settled one way or the other, also if the bus gives up. */
  private readonly awaited = new AwaitedDeliveries();
  /** Runs created and not settled: running, waiting for a slot, waiting for a retry, queued to resume. */
  private activeRuns = 0;
  /** Accepted events whose handlers have not all settled; kept only under a `maxQueued` bound. */
  private unfinished = 0;
  private stopped = false;
  /** Telemetry observes handler runs (asked once per dispatch batch). */
  private observing = false;
  private readonly chains = new ConsumedChains();
  private readonly deliveryFinished = (delivery: Delivery): void => {
    this.awaited.remove(delivery);
    this.chains.finished(delivery);
    if (this.countsDeliveries) this.unfinished--;
  };

  constructor(
    private readonly registry: HandlerRegistry,
    logger: LoggerService,
    asyncContext: boolean,
    /** True under a finite `maxQueued`: every accepted event is then tracked until its handlers settled. */
    private readonly countsDeliveries: boolean,
    /** Telemetry hooks; undefined (no @opentelemetry/api, or telemetry: false) costs one check per attempt. */
    private readonly instrumentation: BusInstrumentation | undefined = undefined,
  ) {
    this.context = new HandlerContext(asyncContext);
    this.failures = new FailureReporter(logger, this.context);
    this.queue = new DispatchQueue<QueueItem>(this);
  }

  /** Events waiting in the queue (not yet dispatched). */
  get queued(): number {
    return this.queue.length;
  }

  /** Accepted events not finished yet (under a `maxQueued` bound; else the queue length). */
  get unfinishedDeliveries(): number {
    return this.countsDeliveries ? this.unfinished : this.queue.length;
  }

  get isIdle(): boolean {
    return this.stopped || (this.activeRuns === 0 && this.queue.length === 0);
  }

  /** The envelope whose handler is running here, if any (for causation). */
  currentEnvelope(): EventEnvelope | undefined {
    return this.context.current(this.activeRuns !== 0);
  }

  start(): void {
    this.queue.start();
  }

  enqueue(envelope: Envelope): void {
    if (!this.countsDeliveries) {
      this.queue.push(envelope);
      return;
    }
    this.unfinished++;
    this.queue.push(new Delivery(envelope, undefined, false, this.deliveryFinished, undefined, undefined));
  }

  /**
   * Queues an event and resolves with its DeliveryReport once every handler settled. A `consumed`
   * event (from a transport) also waits for the follow-ups its handlers publish (see `chainOf`).
   */
  enqueueAndTrack(envelope: Envelope, skipHandlers?: ReadonlySet<string>, redeliverable = false, consumed = false): Promise<DeliveryReport> {
    return new Promise<DeliveryReport>((resolve, reject) => {
      const delivery = new Delivery(envelope, skipHandlers, redeliverable, this.deliveryFinished, resolve, reject);
      this.awaited.add(delivery);
      if (consumed) this.chains.join(envelope.id, delivery);
      if (this.countsDeliveries) this.unfinished++;
      if (this.stopped) delivery.abandon(new DeliveryAbandonedError(describeEventName(envelope.name), envelope.id, 'the event bus has stopped'));
      else this.queue.push(delivery);
    });
  }

  /** Queues a local event published inside a consumed event's chain: its own follow-ups join that chain. */
  enqueueInChain(envelope: Envelope, chain: Delivery): Promise<DeliveryReport> {
    this.chains.join(envelope.id, chain);
    const handled = this.enqueueAndTrack(envelope);
    const leave = () => this.chains.leave(envelope.id, chain);
    handled.then(leave, leave);
    return handled;
  }

  /** The consumed delivery whose handlers published the event caused by `causationId`, while they run. */
  chainOf(causationId: string | undefined): Delivery | undefined {
    return this.chains.of(causationId);
  }

  /** Resolves when nothing is queued or running; `cancel` withdraws the wait (a drain that timed out). */
  whenIdle(): { promise: Promise<void>; cancel: () => void } {
    if (this.isIdle) return { promise: Promise.resolve(), cancel: () => undefined };
    let cancel: () => void = () => undefined;
    const promise = new Promise<void>((resolve) => {
      cancel = this.idleWaiters.add(resolve);
    });
    return { promise, cancel };
  }

  /** Runs waiting for a free concurrency slot (a telemetry gauge). */
  waitingRuns(): number {
    let waiting = 0;
    this.gate.countUnfinished((_, runs) => (waiting += runs));
    return waiting;
  }

  /** An `on()` listener was removed: runs of it still waiting for a slot are dropped. */
  dropWaitingRuns(handler: Handler): void {
    for (const run of this.gate.takeWaiting(handler)) {
      run.delivery?.settle(handler.label, undefined);
      this.activeRuns--;
    }
    this.checkIdle();
  }

  /** Unfinished runs by handler label: running, waiting, retrying, and those of queued events. */
  unfinishedByHandler(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (label: string, n: number) => n > 0 && counts.set(label, (counts.get(label) ?? 0) + n);
    for (const handler of this.registry.handlers()) add(handler.label, handler.runningAsync);
    this.gate.countUnfinished(add);
    this.retries.countUnfinished(add);
    this.queue.forEach((item) => {
      if (item instanceof PendingRun) return add(item.handler.label, 1);
      const envelope = item instanceof Delivery ? item.envelope : item;
      for (const handler of this.registry.resolve(envelope.name, envelope.payload)) add(handler.label, 1);
    });
    return counts;
  }

  /**
   * Gives up for good (shutdown timeout, or closed before start-up): nothing queued, waiting or
   * retrying will run, handlers still running finish unobserved, and every awaited delivery settles
   * (rejected with DeliveryAbandonedError).
   */
  abandon(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    const abandonDelivery = (delivery: Delivery | undefined) =>
      delivery?.abandon(new DeliveryAbandonedError(describeEventName(delivery.envelope.name), delivery.envelope.id, reason));
    for (const item of this.queue.stop()) abandonDelivery(item instanceof Envelope ? undefined : item instanceof Delivery ? item : item.delivery);
    for (const run of this.retries.cancelAll()) abandonDelivery(run.delivery);
    for (const run of this.gate.takeWaiting()) abandonDelivery(run.delivery);
    for (const delivery of this.awaited.takeAll()) abandonDelivery(delivery);
    this.idleWaiters.wakeAll();
  }

  // ---------------------------------------------------------------- dispatch

  // ---------------------------------------------------------------- QueueConsumer

  dispatchItem(item: QueueItem): void {
    if (item instanceof Envelope) this.dispatchEvent(item, undefined);
    else if (item instanceof Delivery) this.dispatchEvent(item.envelope, item);
    else this.resume(item);
  }

  batchStarts(): unknown {
    this.observing = this.instrumentation !== undefined && this.instrumentation.observing();
    return this.context.beginBatch();
  }

  batchEnds(outer: unknown): void {
    this.context.endBatch(outer as EventEnvelope | undefined);
  }

  queueEmptied(): void {
    this.checkIdle();
  }

  private dispatchEvent(envelope: EventEnvelope, delivery: Delivery | undefined): void {
    if (this.events$.observed) this.context.outside(() => this.events$.next(envelope));
    const handlers = this.registry.resolve(envelope.name, envelope.payload);
    const skip = delivery?.skipHandlers;
    if (delivery !== undefined) {
      let runs = handlers.length;
      if (skip !== undefined) for (const handler of handlers) if (skip.has(handler.label)) runs--;
      delivery.expect(runs);
    }
    for (let i = 0; i < handlers.length; i++) {
      const handler = handlers[i];
      if (skip !== undefined && skip.has(handler.label)) continue;
      this.activeRuns++;
      if (handler.concurrency !== Infinity && !this.gate.tryEnter(handler)) this.gate.wait(new PendingRun(handler, envelope, 1, delivery, false));
      // The fast path skips attempt(): only while nothing observes (attempt() starts an attempt's observation).
      else if (handler.resolveInstance === undefined && !this.observing) {
        runHandler(this.context, handler, handler.instance, envelope, envelope, 1, delivery, this);
      } else this.attempt(handler, envelope, 1, delivery);
    }
  }

  /** A run comes back from the queue: its slot was handed over, or its retry delay is over. */
  private resume(run: PendingRun): void {
    // Runs of a listener removed while they waited for a slot do not start (retries of started ones do).
    if (run.attempt === 1 && run.handler.removed) this.finishRun(run.handler, run.delivery, undefined, undefined);
    else this.attempt(run.handler, run.envelope, run.attempt, run.delivery);
  }

  /** One attempt; the run holds its handler's slot. */
  private attempt(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined): void {
    if (this.stopped) return this.finishRun(handler, delivery, undefined, undefined);
    const observation = this.instrumentation?.handlerRun(handler.label, envelope, attempt);
    // Observed: the outcome passes through an ObservedRun that ends the attempt's telemetry first.
    const outcomes: RunOutcomeListener = observation === undefined ? this : new ObservedRun(this, observation);
    if (handler.resolveInstance === undefined) return this.execute(handler, handler.instance, envelope, attempt, delivery, outcomes, observation);
    this.runWentAsync(handler);
    this.scopedInstances.get(handler, envelope).then(
      (instance) => {
        this.runCameBack(handler);
        if (this.stopped) {
          observation?.end('failed', new Error('the event bus stopped before the handler could run'));
          this.finishRun(handler, delivery, undefined, undefined);
        } else this.execute(handler, instance, envelope, attempt, delivery, outcomes, observation);
      },
      (error: unknown) => {
        this.runCameBack(handler);
        outcomes.runFailed(handler, envelope, attempt, delivery, error);
      },
    );
  }

  private execute(
    handler: Handler,
    instance: object | undefined,
    envelope: EventEnvelope,
    attempt: number,
    delivery: Delivery | undefined,
    outcomes: RunOutcomeListener,
    observation: ObservedRun['observation'] | undefined,
  ): void {
    const seen = attempt === 1 ? envelope : (envelope as Envelope).withAttempt(attempt);
    runHandler(this.context, handler, instance, envelope, seen, attempt, delivery, outcomes, observation);
  }

  /** What follows a failed attempt: a retry, the broker's redelivery, or the dead letter (what runFailed does). */
  failureOutcome(handler: Handler, attempt: number, delivery: Delivery | undefined): HandlerRunOutcome {
    if (this.stopped || attempt < handler.attempts) return 'failed';
    return delivery?.redeliverable === true ? 'redelivered' : 'dead-lettered';
  }

  // ---------------------------------------------------------------- outcomes (RunOutcomeListener)

  runSucceeded(handler: Handler, envelope: EventEnvelope, _attempt: number, delivery: Delivery | undefined): void {
    if (this.handled$.observed) this.context.outside(() => this.handled$.next({ envelope, handler: handler.label }));
    this.finishRun(handler, delivery, true, undefined);
  }

  runFiltered(handler: Handler, _envelope: EventEnvelope, _attempt: number, delivery: Delivery | undefined): void {
    this.finishRun(handler, delivery, undefined, undefined);
  }

  runFailed(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined, error: unknown): void {
    // After the bus gave up nothing more happens: no retry, no report.
    if (this.stopped) return this.finishRun(handler, delivery, false, error);
    const outcome = this.failureOutcome(handler, attempt, delivery);
    if (outcome === 'failed') {
      const delay = handler.delayBefore(attempt + 1);
      this.failures.report(handler, envelope, attempt, error, 'retry', delay);
      // The retry keeps the run's slot (so `concurrency: 1` keeps its order through the backoff).
      this.retries.schedule(new PendingRun(handler, envelope, attempt + 1, delivery, true), delay);
      return;
    }
    // With a broker that redelivers, giving up here is not final: the next delivery retries.
    this.failures.report(handler, envelope, attempt, error, outcome === 'redelivered' ? 'redeliver' : 'dead-letter');
    this.finishRun(handler, delivery, false, error);
  }

  runWentAsync(handler: Handler): void {
    handler.runningAsync++;
  }

  runCameBack(handler: Handler): void {
    handler.runningAsync--;
  }

  /** A run is over (ok: true succeeded, false failed for good, undefined filtered out or dropped). */
  private finishRun(handler: Handler, delivery: Delivery | undefined, ok: boolean | undefined, error: unknown): void {
    if (delivery !== undefined) delivery.settle(handler.label, ok, error);
    if (handler.concurrency !== Infinity) {
      const next = this.gate.leave(handler);
      // The freed slot went to the oldest waiting run: it starts from the queue, within the batch budget.
      if (next !== undefined && !this.stopped) this.queue.push(next);
    }
    if (--this.activeRuns === 0 && this.idleWaiters.size !== 0) this.checkIdle();
  }

  private checkIdle(): void {
    if (this.idleWaiters.size !== 0 && this.isIdle) this.idleWaiters.wakeAll();
  }
}
