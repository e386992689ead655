import { Inject, Injectable, Optional, type LoggerService, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { filter, type Observable } from 'rxjs';
import { createBusLogger } from './bus-logger.js';
import { BusShutdown } from './bus-shutdown.js';
import { BUS_INSTRUMENTATION_FACTORY, DEFAULT_MAX_BUFFERED_BEFORE_READY, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './constants.js';
import { containedView } from './dispatch/contained-observable.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import { MODULE_OPTIONS_TOKEN } from './event-bus.module-definition.js';
import { restoreEnvelope, type EventEnvelope, type EventName } from './event-envelope.js';
import { EventIdGenerator } from './event-id.js';
import { describeEventName, type EventClass, type EventSelector } from './event-name.js';
import { envelopeMatcher } from './event-selector-matcher.js';
import { DrainTimeoutError, EventBusClosedError, EventBusNotReadyError, InvalidEventError } from './errors.js';
import type { HandlerInvoker, InstanceResolver } from './handler.js';
import type { BusInstrumentation, BusInstrumentationFactory } from './instrumentation/bus-instrumentation.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';
import type { HandlerFailure } from './interfaces/handler-failure.interface.js';
import type { HandlerOptions } from './interfaces/handler-options.interface.js';
import type { PublishOptions } from './interfaces/publish-options.interface.js';
import type { RegisteredHandler } from './interfaces/registered-handler.interface.js';
import { validateModuleOptions } from './options/validate-module-options.js';
import { EventWaits, type WaitForOptions } from './observing/event-waits.js';
import { EnvelopeFactory } from './publishing/envelope-factory.js';
import { EventRouter } from './publishing/event-router.js';
import { PublishAdmission } from './publishing/publish-admission.js';
import { HandlerFactory } from './registration/handler-factory.js';
import { HandlerRegistry } from './registration/handler-registry.js';
import type { HandlerMiddleware } from './handler-middleware.js';
import { ListenerRegistrations, type EventListener } from './registration/listener-registrations.js';
import { withTimeout } from './timers.js';
import type { EventTransport } from './transport/event-transport.interface.js';
import { OutboundSends } from './transport/outbound-sends.js';
import { createTransportHost } from './transport/transport-host.js';
import { TravelPolicy } from './transport/travel-policy.js';

export type { EventListener } from './registration/listener-registrations.js';

export type { WaitForOptions } from './observing/event-waits.js';

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
  private readonly admission: PublishAdmission;
  private readonly router: EventRouter;
  private readonly waits: EventWaits;
  private readonly handlerFactory: HandlerFactory;
  private readonly listeners: ListenerRegistrations;
  private readonly transport: EventTransport | undefined;
  private readonly sends: OutboundSends | undefined;
  /** Telemetry hooks (lib/opentelemetry when @opentelemetry/api is installed); undefined: none, no cost. */
  private readonly instrumentation: BusInstrumentation | undefined;
  private readonly lifecycle: BusShutdown;
  private handlersRegistered = false;
  private transportStarted: Promise<void> | undefined;

  /** Every event of this process, emitted at dispatch (never inside `publish`). */
  readonly events$: Observable<EventEnvelope>;
  /** Every failed attempt, the last one included (`final: true`). */
  readonly errors$: Observable<HandlerFailure>;
  /** Final failures only: the handler gave up on the event. */
  readonly deadLetters$: Observable<HandlerFailure>;
  /** @internal Every successful handler run, for the events page's rates. */
  readonly handled$: Observable<{ envelope: EventEnvelope; handler: string }>;

  constructor(
    @Inject(MODULE_OPTIONS_TOKEN) options: EventBusModuleOptions,
    @Optional() @Inject(BUS_INSTRUMENTATION_FACTORY) instrumentationFactory?: BusInstrumentationFactory,
  ) {
    validateModuleOptions(options);
    this.logger = createBusLogger(options.logger);
    const maxQueued = options.maxQueued ?? Infinity;
    this.transport = options.transport;
    const transport = this.transport;
    this.instrumentation = instrumentationFactory?.create({
      transport: transport?.name,
      consumerGroup: transport?.consumerGroup,
      gauges: {
        queueDepth: () => this.dispatcher.queued,
        waitingRuns: () => this.dispatcher.waitingRuns(),
        transportInFlight: () => transport?.inFlightMessages?.(),
        consumerLag: () => transport?.consumerLag?.() ?? Promise.resolve(undefined),
      },
    });
    this.dispatcher = new Dispatcher(this.registry, this.logger, options.asyncContext ?? true, maxQueued !== Infinity, this.instrumentation);
    this.sends = this.transport === undefined ? undefined : new OutboundSends(this.transport, this.logger);
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
    this.router = new EventRouter(
      new EnvelopeFactory(this.ids, this.registry),
      this.admission,
      this.dispatcher,
      this.sends,
      new TravelPolicy(options.travel),
      () => this.handlersRegistered && this.startDispatching(),
      this.instrumentation,
      options.serializablePayloads === true,
    );
    this.waits = new EventWaits(this.dispatcher.events$);
    this.handlerFactory = new HandlerFactory(options);
    this.listeners = new ListenerRegistrations(this.registry, this.handlerFactory, (handler) => this.dispatcher.dropWaitingRuns(handler));
    this.lifecycle = new BusShutdown(this.dispatcher, this.admission, this.transport, this.sends, this.logger, options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    const report = (error: unknown) => this.dispatcher.failures.subscriberThrew(error);
    this.events$ = containedView(this.dispatcher.events$, report);
    this.errors$ = containedView(this.dispatcher.failures.errors$, report);
    this.deadLetters$ = containedView(this.dispatcher.failures.deadLetters$, report);
    this.handled$ = containedView(this.dispatcher.handled$, report);
  }

  // ---------------------------------------------------------------- publishing

  /** Publishes an event; returns its envelope at once. Handlers run later, never inside this call. */
  publish(name: EventName, payload?: unknown, options?: PublishOptions): EventEnvelope;
  publish(event: object, options?: PublishOptions): EventEnvelope;
  publish(nameOrEvent: EventName | object, payloadOrOptions?: unknown, maybeOptions?: PublishOptions): EventEnvelope {
    return this.router.publish(nameOrEvent, payloadOrOptions, maybeOptions);
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
    return this.router.publishAndWait(nameOrEvent, payloadOrOptions, maybeOptions);
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

  /**
   * Resolves with the next matching event; rejects with WaitForTimeoutError after `timeoutMs` (default:
   * none), and with EventBusClosedError if the bus shuts down first.
   */
  waitFor<T = unknown>(selector: EventSelector, options: WaitForOptions = {}): Promise<EventEnvelope<T>> {
    return this.waits.waitFor<T>(selector, options);
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

  /**
   * Wraps every handler call from now on (outermost first, in the order added). For integrations
   * (the outbox's inbox runs handlers in a transaction through it); register before start-up.
   */
  useHandlerMiddleware(middleware: HandlerMiddleware): void {
    if (typeof middleware !== 'function') throw new InvalidEventError('EventBus.useHandlerMiddleware(): the middleware must be a function.');
    this.dispatcher.context.middlewares.push(middleware);
  }

  /**
   * The event class handled here whose event name is `name`, if any: for integrations that receive
   * payloads as JSON (the outbox's relay) and must hand class handlers an instance.
   */
  eventClass(name: string): EventClass | undefined {
    return this.registry.classForName(name);
  }

  /** True once start-up finished (handlers registered) and events are being delivered. */
  get isStarted(): boolean {
    return this.admission.started;
  }

  /** Every registration, for topology views. */
  handlers(): RegisteredHandler[] {
    return this.registry.list();
  }

  /**
   * @internal Dead-letter redrive (`DeadLetters`): delivers `envelope` again, as a fresh delivery (attempt
   * counting restarts), to the named local handlers only, with `headers` added. Every other handler of the
   * event is skipped: those already succeeded. Resolves with the report of that delivery.
   */
  redeliver(envelope: EventEnvelope, handlers: ReadonlySet<string>, headers: Readonly<Record<string, string>>): Promise<DeliveryReport> {
    if (this.admission.closing) return Promise.reject(new EventBusClosedError(describeEventName(envelope.name)));
    const again = restoreEnvelope(this.ids, {
      id: envelope.id,
      name: envelope.name as string,
      payload: envelope.payload,
      occurredAt: envelope.occurredAt.getTime(),
      correlationId: envelope.correlationId,
      ...(envelope.causationId === undefined ? {} : { causationId: envelope.causationId }),
      headers: { ...envelope.headers, ...headers },
    });
    const skip = new Set<string>();
    for (const h of this.registry.resolve(envelope.name, envelope.payload)) if (!handlers.has(h.label)) skip.add(h.label);
    return this.dispatcher.enqueueAndTrack(again, skip);
  }

  /** @internal For the events page: events waiting for dispatch, and per handler its unfinished runs (running, waiting, retrying, queued). */
  load(): { queued: number; handlers: { handler: string; unfinished: number }[] } {
    return {
      queued: this.dispatcher.queued,
      handlers: [...this.dispatcher.unfinishedByHandler()].map(([handler, unfinished]) => ({ handler, unfinished })),
    };
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
      await (this.transportStarted ??= this.transport.start(
        createTransportHost(this.registry, this.dispatcher, this.ids, this.logger, this.instrumentation),
      ));
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
    return this.lifecycle.shutdown().then(() => this.waits.close());
  }

  private startDispatching(): void {
    if (this.admission.started) return;
    this.admission.started = true;
    this.dispatcher.start();
  }
}
