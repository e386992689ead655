import { Inject, Injectable, type LoggerService, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { filter, type Observable } from 'rxjs';
import { createBusLogger } from './bus-logger.js';
import { BusShutdown } from './bus-shutdown.js';
import { DEFAULT_MAX_BUFFERED_BEFORE_READY, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './constants.js';
import { containedView } from './dispatch/contained-observable.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { MODULE_OPTIONS_TOKEN } from './event-bus.module-definition.js';
import type { Envelope, EventEnvelope, EventName } from './event-envelope.js';
import { EventIdGenerator } from './event-id.js';
import { describeEventName, type EventSelector } from './event-name.js';
import { envelopeMatcher } from './event-selector-matcher.js';
import { DrainTimeoutError, EventBusClosedError, EventBusNotReadyError, InvalidEventError, WaitForTimeoutError } from './errors.js';
import type { HandlerInvoker, InstanceResolver } from './handler.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';
import type { HandlerFailure } from './interfaces/handler-failure.interface.js';
import type { HandlerOptions } from './interfaces/handler-options.interface.js';
import type { PublishOptions } from './interfaces/publish-options.interface.js';
import type { RegisteredHandler } from './interfaces/registered-handler.interface.js';
import { validateModuleOptions } from './options/validate-module-options.js';
import { EnvelopeFactory } from './publishing/envelope-factory.js';
import { PublishAdmission } from './publishing/publish-admission.js';
import { HandlerFactory } from './registration/handler-factory.js';
import { HandlerRegistry } from './registration/handler-registry.js';
import { ListenerRegistrations, type EventListener } from './registration/listener-registrations.js';
import { startTimer, withTimeout } from './timers.js';
import type { EventTransport } from './transport/event-transport.interface.js';
import { OutboundSends } from './transport/outbound-sends.js';
import { createTransportHost } from './transport/transport-host.js';
import { TravelPolicy } from './transport/travel-policy.js';

export type { EventListener } from './registration/listener-registrations.js';

export interface WaitForOptions {
  filter?: (envelope: EventEnvelope) => boolean;
  /** Default: no timeout (`Infinity`). */
  timeoutMs?: number;
}

/**
 * The event bus of one Nest application: publishing, run-time listeners, the RxJS views of the
 * traffic, and the lifecycle. A facade: the work is done by the parts it wires together (see
 * lib/README.md for the map). No module-level state: several applications in a process are independent.
 */
@Injectable()
export class EventBus implements OnApplicationBootstrap, OnModuleDestroy {
  readonly logger: LoggerService;
  private readonly registry = new HandlerRegistry();
  private readonly ids = new EventIdGenerator();
  private readonly dispatcher: Dispatcher;
  private readonly envelopes: EnvelopeFactory;
  private readonly admission: PublishAdmission;
  private readonly handlerFactory: HandlerFactory;
  private readonly listeners: ListenerRegistrations;
  private readonly transport: EventTransport | undefined;
  private readonly sends: OutboundSends | undefined;
  private readonly travel: TravelPolicy;
  private readonly lifecycle: BusShutdown;
  private handlersRegistered = false;
  /** `waitFor` calls still waiting: rejected once the bus shut down. */
  private readonly pendingWaits = new Set<() => void>();
  private transportStarted: Promise<void> | undefined;

  /** Every event of this process, emitted at dispatch (never inside `publish`). */
  readonly events$: Observable<EventEnvelope>;
  /** Every failed attempt, the last one included (`final: true`). */
  readonly errors$: Observable<HandlerFailure>;
  /** Final failures only: the handler gave up on the event. */
  readonly deadLetters$: Observable<HandlerFailure>;

  constructor(@Inject(MODULE_OPTIONS_TOKEN) options: EventBusModuleOptions) {
    validateModuleOptions(options);
    this.logger = createBusLogger(options.logger);
    const maxQueued = options.maxQueued ?? Infinity;
    this.dispatcher = new Dispatcher(this.registry, this.logger, options.asyncContext ?? true, maxQueued !== Infinity);
    this.transport = options.transport;
    this.sends = this.transport === undefined ? undefined : new OutboundSends(this.transport, this.logger);
    this.travel = new TravelPolicy(options.travel);
    const sends = this.sends;
    const dispatcher = this.dispatcher;
    this.admission = new PublishAdmission(
      {
        get queued() {
          return dispatcher.queued;
        },
        get unfinishedDeliveries() {
          return dispatcher.unfinishedDeliveries;
        },
        get unsentCount() {
          return sends === undefined ? 0 : sends.size;
        },
      },
      options.maxBufferedBeforeReady ?? DEFAULT_MAX_BUFFERED_BEFORE_READY,
      maxQueued,
    );
    this.envelopes = new EnvelopeFactory(this.ids, this.registry);
    this.handlerFactory = new HandlerFactory(options);
    this.listeners = new ListenerRegistrations(this.registry, this.handlerFactory, (handler) => this.dispatcher.dropWaitingRuns(handler));
    this.lifecycle = new BusShutdown(this.dispatcher, this.admission, this.transport, this.sends, this.logger, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    const report = (error: unknown) => this.dispatcher.failures.subscriberThrew(error);
    this.events$ = containedView(this.dispatcher.events$, report);
    this.errors$ = containedView(this.dispatcher.failures.errors$, report);
    this.deadLetters$ = containedView(this.dispatcher.failures.deadLetters$, report);
  }

  // ---------------------------------------------------------------- publishing

  /** Publishes an event; returns its envelope at once. Handlers run later, never inside this call. */
  publish(name: EventName, payload?: unknown, options?: PublishOptions): EventEnvelope;
  publish(event: object, options?: PublishOptions): EventEnvelope;
  publish(nameOrEvent: EventName | object, payloadOrOptions?: unknown, maybeOptions?: PublishOptions): EventEnvelope {
    const envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
    if (this.sends === undefined) this.dispatcher.enqueue(envelope);
    else if (this.travel.travels(envelope)) this.send(envelope);
    else this.enqueueLocal(envelope);
    return envelope;
  }

  /**
   * Publishes and resolves once every matching handler finished, retries included. Never rejects
   * because a handler failed: failures are in the report. Rejects with DeliveryAbandonedError if the
   * application closes before the event could be handled. With a transport, resolves once the broker
   * accepted the event (handlers run in whichever process consumes it).
   */
  publishAndWait(name: EventName, payload?: unknown, options?: PublishOptions): Promise<DeliveryReport>;
  publishAndWait(event: object, options?: PublishOptions): Promise<DeliveryReport>;
  publishAndWait(nameOrEvent: EventName | object, payloadOrOptions?: unknown, maybeOptions?: PublishOptions): Promise<DeliveryReport> {
    let envelope: Envelope;
    let sending: Promise<void> | undefined;
    try {
      envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
      // prepare() throws synchronously for a payload the transport refuses.
      if (this.sends !== undefined && this.travel.travels(envelope)) sending = this.send(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    if (sending !== undefined) return sending.then(() => ({ envelope, handled: 0, failed: [] }));
    // Handlers are known once registration ran: waiting must not hang start-up until bootstrap.
    if (this.handlersRegistered) this.startDispatching();
    const chain = this.dispatcher.chainOf(envelope.causationId);
    if (chain === undefined) return this.dispatcher.enqueueAndTrack(envelope);
    const handled = this.dispatcher.enqueueInChain(envelope, chain);
    chain.hold(handled);
    return handled;
  }

  /**
   * A local event (not travelling) published with a transport: inside a consumed event's chain it is
   * part of that chain, so what its handlers publish holds the consumed event's acknowledgement too.
   */
  private enqueueLocal(envelope: Envelope): void {
    const chain = this.dispatcher.chainOf(envelope.causationId);
    if (chain === undefined) this.dispatcher.enqueue(envelope);
    else chain.hold(this.dispatcher.enqueueInChain(envelope, chain));
  }

  /** Hands an event to the transport; a follow-up of a consumed event holds that event's acknowledgement. */
  private send(envelope: Envelope): Promise<void> {
    const sending = this.sends!.send(envelope);
    this.dispatcher.chainOf(envelope.causationId)?.hold(sending);
    return sending;
  }

  private accept(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Envelope {
    const parent = this.dispatcher.currentEnvelope();
    const envelope = this.envelopes.create(nameOrEvent, payloadOrOptions, maybeOptions, parent);
    this.admission.admit(envelope.name, parent);
    return envelope;
  }

  // ---------------------------------------------------------------- observing

  /** The events matching a name, a pattern or a class (instances of it and of its subclasses). */
  ofEvent<T = unknown>(selector: EventSelector): Observable<EventEnvelope<T>> {
    // events$ is contained: what `pipe` derives from it is contained too.
    return this.events$.pipe(filter(envelopeMatcher(selector))) as Observable<EventEnvelope<T>>;
  }

  /**
   * Adds a listener at run time; returns a function that removes it. The same listener added twice
   * for the same event is one registration.
   */
  on<TPayload = any>(selector: EventSelector, listener: EventListener<TPayload>, options?: HandlerOptions<TPayload>): () => void {
    this.listeners.add(selector, listener, options);
    return () => this.listeners.remove(selector, listener);
  }

  /** Removes a listener added with `on()`; its runs still waiting for a concurrency slot are dropped. */
  off(selector: EventSelector, listener: EventListener): void {
    this.listeners.remove(selector, listener);
  }

  /** Resolves with the next matching event; rejects with WaitForTimeoutError after `timeoutMs` (default: none). */
  waitFor<T = unknown>(selector: EventSelector, options: WaitForOptions = {}): Promise<EventEnvelope<T>> {
    const matches = envelopeMatcher(selector);
    const { filter, timeoutMs = Infinity } = options;
    if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
      throw new InvalidEventError(`waitFor(): timeoutMs must be a number of ms >= 0 (or Infinity), got ${String(timeoutMs)}.`);
    }
    if (this.admission.stopped) return Promise.reject(new EventBusClosedError(describeEventName(selector), 'waitFor'));
    return new Promise<EventEnvelope<T>>((resolve, reject) => {
      const abandon = (): void => {
        finish();
        reject(new EventBusClosedError(describeEventName(selector), 'waitFor'));
      };
      this.pendingWaits.add(abandon);
      const subscription = this.dispatcher.events$.subscribe((envelope) => {
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
        reject(new WaitForTimeoutError(describeEventName(selector), timeoutMs));
      });
      const finish = () => {
        subscription.unsubscribe();
        cancelTimer();
        this.pendingWaits.delete(abandon);
      };
    });
  }

  /**
   * Resolves when nothing is queued or running (events published by handlers meanwhile included,
   * retries included). With `timeoutMs`, rejects with DrainTimeoutError past it.
   */
  drain(timeoutMs?: number): Promise<void> {
    const notReady = this.notReadyError('drain()');
    if (notReady !== undefined) return Promise.reject(notReady);
    const { promise, cancel } = this.lifecycle.whenSettled();
    if (timeoutMs === undefined) return promise;
    return withTimeout(promise, timeoutMs, () => {
      cancel();
      return new DrainTimeoutError(timeoutMs, this.lifecycle.unfinishedCount());
    });
  }

  /** True once start-up finished (handlers registered) and events are being delivered. */
  get isStarted(): boolean {
    return this.admission.started;
  }

  /** Every registration, for topology views. */
  handlers(): RegisteredHandler[] {
    return this.registry.list();
  }

  // ---------------------------------------------------------------- registration and lifecycle (internal)

  /**
   * @internal Why waiting on this bus could never finish, if it could not: events published before
   * `init()` wait for handlers that are not registered yet.
   */
  notReadyError(what: string): EventBusNotReadyError | undefined {
    return !this.admission.started && this.dispatcher.queued !== 0 ? new EventBusNotReadyError(what) : undefined;
  }

  /** @internal True once discovery registered the application's `@OnEvent` methods. */
  get hasRegisteredHandlers(): boolean {
    return this.handlersRegistered;
  }

  /** @internal Registers a discovered `@OnEvent` method. */
  registerHandler(
    selectors: readonly EventSelector[],
    label: string,
    target: object,
    invoke: HandlerInvoker,
    instance: object | undefined,
    resolveInstance: InstanceResolver | undefined,
    options: HandlerOptions,
  ): void {
    const handler = this.handlerFactory.create(label, target, invoke, instance, resolveInstance, options);
    for (const selector of selectors) {
      this.registry.add(selector, handler);
      this.logger.log(`Mapped {${describeEventName(selector)}} -> ${label}`);
    }
  }

  /** @internal Called once discovery finished. */
  markHandlersRegistered(): void {
    this.handlersRegistered = true;
  }

  /** Starts delivering (events buffered during start-up first, in order) and starts the transport. */
  async onApplicationBootstrap(): Promise<void> {
    this.startDispatching();
    // The same bus may be provided by several imports of the module: start its transport once.
    if (this.transport !== undefined) {
      await (this.transportStarted ??= this.transport.start(createTransportHost(this.registry, this.dispatcher, this.ids, this.logger)));
    }
  }

  /** Fallback when the early shutdown hook did not run first. */
  async onModuleDestroy(): Promise<void> {
    await this.shutdown();
  }

  /**
   * Stops new publishes, then waits up to `shutdownTimeoutMs` for queued and running handlers
   * (retries included) and logs what it could not finish. Idempotent.
   */
  shutdown(): Promise<void> {
    return this.lifecycle.shutdown().then(() => {
      // No event will be dispatched any more: waits for one settle now.
      for (const abandon of [...this.pendingWaits]) abandon();
    });
  }

  private startDispatching(): void {
    if (this.admission.started) return;
    this.admission.started = true;
    this.dispatcher.start();
  }
}
