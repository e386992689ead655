import { Inject, Injectable, type LoggerService, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { filter as filterOperator, firstValueFrom, Observable, timeout as timeoutOperator, TimeoutError } from 'rxjs';
import { createBusLogger } from './bus-logger.js';
import { DEFAULT_MAX_BUFFERED_BEFORE_READY, DEFAULT_SHUTDOWN_TIMEOUT_MS } from './constants.js';
import { Dispatcher } from './dispatcher.js';
import { MODULE_OPTIONS_TOKEN } from './event-bus.module-definition.js';
import { Envelope, restoreEnvelope, type EventEnvelope, type EventName } from './event-envelope.js';
import { EventIdGenerator } from './event-id.js';
import { assertPublishableName, describeEventName, selectorProblem, type EventClass, type EventSelector } from './event-name.js';
import { envelopeMatcher } from './event-selector-matcher.js';
import {
  BackpressureError,
  BufferOverflowError,
  DrainTimeoutError,
  EventBusClosedError,
  EventBusNotReadyError,
  InvalidEventError,
  InvalidHandlerError,
  WaitForTimeoutError,
} from './errors.js';
import { Handler, type HandlerInvoker, type InstanceResolver } from './handler.js';
import { HandlerRegistry } from './handler-registry.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';
import type { HandlerFailure } from './interfaces/handler-failure.interface.js';
import type { HandlerOptions, HandlerPolicy } from './interfaces/handler-options.interface.js';
import type { PublishOptions } from './interfaces/publish-options.interface.js';
import type { RegisteredHandler } from './interfaces/registered-handler.interface.js';
import type { EventTransport, TransportHost } from './transport/event-transport.interface.js';

/** A run-time listener added with `EventBus.on()`. */
export type EventListener<TPayload = any> = (payload: TPayload, envelope: EventEnvelope<TPayload>) => unknown;

export interface WaitForOptions {
  filter?: (envelope: EventEnvelope) => boolean;
  timeoutMs?: number;
}

/**
 * The in-process event bus: dispatches published events to `@OnEvent` handlers and `on()` listeners,
 * and exposes the traffic as RxJS streams. One per Nest application (no module-level state).
 */
@Injectable()
export class EventBus implements OnApplicationBootstrap, OnModuleDestroy {
  readonly logger: LoggerService;
  private readonly registry = new HandlerRegistry();
  private readonly dispatcher: Dispatcher;
  private readonly ids = new EventIdGenerator();
  private readonly transport: EventTransport | undefined;
  private readonly maxBuffered: number;
  private readonly maxQueued: number;
  private readonly shutdownTimeoutMs: number;
  /** `on()` registrations by listener: one Handler (the usual case), or several for several events. */
  private readonly listeners = new Map<Function, Handler | Handler[]>();
  private readonly sends = new Set<Promise<void>>();
  private handlerSequence = 0;
  private handlersRegistered = false;
  private started = false;
  /** Shutdown began: publishes from outside handlers are refused. */
  private closed = false;
  /** Shutdown finished: every publish is refused. */
  private stopped = false;
  private shutdownPromise: Promise<void> | undefined;

  /** Every event of this process, emitted at dispatch (never inside `publish`). */
  readonly events$: Observable<EventEnvelope>;
  /** Every failed attempt, the last one included (`final: true`). */
  readonly errors$: Observable<HandlerFailure>;
  /** Final failures only: the handler gave up on the event. */
  readonly deadLetters$: Observable<HandlerFailure>;

  constructor(@Inject(MODULE_OPTIONS_TOKEN) private readonly options: EventBusModuleOptions) {
    this.logger = createBusLogger(options.logger);
    this.dispatcher = new Dispatcher(this.registry, this.logger, options.asyncContext ?? true);
    this.transport = options.transport;
    this.maxBuffered = options.maxBufferedBeforeReady ?? DEFAULT_MAX_BUFFERED_BEFORE_READY;
    this.maxQueued = options.maxQueued ?? Infinity;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    this.events$ = this.dispatcher.events$.asObservable();
    this.errors$ = this.dispatcher.errors$.asObservable();
    this.deadLetters$ = this.dispatcher.deadLetters$.asObservable();
  }

  // ---------------------------------------------------------------- publishing

  /** Publishes an event; returns its envelope at once. Handlers run later, never inside this call. */
  publish(name: EventName, payload?: unknown, options?: PublishOptions): EventEnvelope;
  publish(event: object, options?: PublishOptions): EventEnvelope;
  publish(nameOrEvent: EventName | object, payloadOrOptions?: unknown, maybeOptions?: PublishOptions): EventEnvelope {
    const envelope = this.createEnvelope(nameOrEvent, payloadOrOptions, maybeOptions);
    if (this.transport !== undefined) this.send(envelope);
    else this.dispatcher.enqueue(envelope);
    return envelope;
  }

  /**
   * Publishes and resolves once every matching handler finished, retries included. Never rejects
   * because a handler failed: failures are in the report. With a transport, resolves once the broker
   * accepted the event (handlers run in whichever process consumes it).
   */
  publishAndWait(name: EventName, payload?: unknown, options?: PublishOptions): Promise<DeliveryReport>;
  publishAndWait(event: object, options?: PublishOptions): Promise<DeliveryReport>;
  publishAndWait(nameOrEvent: EventName | object, payloadOrOptions?: unknown, maybeOptions?: PublishOptions): Promise<DeliveryReport> {
    let envelope: Envelope;
    try {
      envelope = this.createEnvelope(nameOrEvent, payloadOrOptions, maybeOptions);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.transport !== undefined) {
      let sending: Promise<void>;
      try {
        sending = this.send(envelope); // prepare() throws synchronously for a payload the transport refuses
      } catch (error) {
        return Promise.reject(error);
      }
      return sending.then(() => ({ envelope, handled: 0, failed: [] }));
    }
    // Handlers are known once registration ran: waiting must not hang start-up until bootstrap.
    if (this.handlersRegistered && !this.started) this.startDispatching();
    return this.dispatcher.enqueueAndTrack(envelope);
  }

  private createEnvelope(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Envelope {
    let name: EventName;
    let payload: unknown;
    let options: PublishOptions | undefined;
    if (typeof nameOrEvent === 'string' || typeof nameOrEvent === 'symbol') {
      assertPublishableName(nameOrEvent);
      name = nameOrEvent;
      payload = payloadOrOptions;
      options = maybeOptions;
    } else if (isClassInstance(nameOrEvent)) {
      name = this.registry.nameOfClass(nameOrEvent.constructor);
      payload = nameOrEvent;
      options = payloadOrOptions as PublishOptions | undefined;
    } else {
      if (typeof nameOrEvent !== 'object' || nameOrEvent === null) assertPublishableName(nameOrEvent);
      throw new InvalidEventError(
        'publish() got a plain object where an event name or an event class instance was expected. ' +
          'Use publish("order.placed", payload), or publish(new OrderPlaced(...)) with a class.',
      );
    }
    // While shutdown drains, handlers still running may publish their follow-ups (they are drained too).
    const parent = this.dispatcher.currentEnvelope();
    if (this.closed && (this.stopped || parent === undefined)) throw new EventBusClosedError(describeEventName(name));
    const queued = this.dispatcher.queued;
    if (!this.started) {
      if (queued >= this.maxBuffered) throw new BufferOverflowError(describeEventName(name), this.maxBuffered);
    } else if (queued >= this.maxQueued) {
      throw new BackpressureError(describeEventName(name), this.maxQueued);
    }
    const sequence = this.ids.nextSequence(this.ids.now());
    return new Envelope(
      this.ids,
      this.ids.time,
      sequence,
      name,
      payload,
      options?.correlationId ?? parent?.correlationId,
      parent?.id,
      options?.headers ?? Envelope.emptyHeaders(),
      1,
      options?.id,
    );
  }

  private send(envelope: Envelope): Promise<void> {
    const transport = this.transport!;
    const prepared = transport.prepare(envelope);
    const sending = transport.send(envelope, prepared);
    // One handler does the bookkeeping and the logging (and marks a failed send as handled for publish()).
    const tracked: Promise<void> = sending.then(
      () => {
        this.sends.delete(tracked);
      },
      (error: unknown) => {
        this.sends.delete(tracked);
        this.logger.error(
          `Could not send event ${describeEventName(envelope.name)} (id ${envelope.id}) through ${transport.name}: ${String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      },
    );
    this.sends.add(tracked);
    return sending;
  }

  // ---------------------------------------------------------------- observing

  /** The events matching a name, a pattern or a class (instances of it and of its subclasses). */
  ofEvent<T = unknown>(selector: EventSelector): Observable<EventEnvelope<T>> {
    return this.events$.pipe(filterOperator(envelopeMatcher(selector))) as Observable<EventEnvelope<T>>;
  }

  /**
   * Adds a listener at run time; returns a function that removes it. The same listener added twice
   * for the same event is one registration.
   */
  on<TPayload = any>(selector: EventSelector, listener: EventListener<TPayload>, options: HandlerOptions<TPayload> = NO_OPTIONS): () => void {
    const problem = selectorProblem(selector);
    if (problem !== undefined) throw new InvalidEventError(`EventBus.on(): ${problem}.`);
    if (typeof listener !== 'function') throw new InvalidEventError('EventBus.on(): the listener must be a function.');
    const existing = this.listeners.get(listener);
    if (findListenerHandler(existing, selector) === undefined) {
      const handler = this.createHandler(listener.name || 'anonymous listener', listener, callListener, listener, undefined, options);
      handler.selector = selector;
      this.listeners.set(listener, existing === undefined ? handler : Array.isArray(existing) ? [...existing, handler] : [existing, handler]);
      this.registry.add(selector, handler);
    }
    return () => this.off(selector, listener);
  }

  /** Removes a listener added with `on()`. */
  off(selector: EventSelector, listener: EventListener): void {
    const existing = this.listeners.get(listener);
    const handler = findListenerHandler(existing, selector);
    if (handler === undefined) return;
    const rest = Array.isArray(existing) ? existing.filter((h) => h !== handler) : [];
    if (rest.length === 0) this.listeners.delete(listener);
    else this.listeners.set(listener, rest.length === 1 ? rest[0] : rest);
    this.registry.remove(handler, selector);
  }

  /** Resolves with the next matching event; rejects with WaitForTimeoutError after `timeoutMs`. */
  waitFor<T = unknown>(selector: EventSelector, options: WaitForOptions = {}): Promise<EventEnvelope<T>> {
    let stream = this.ofEvent<T>(selector);
    if (options.filter !== undefined) stream = stream.pipe(filterOperator(options.filter as (e: EventEnvelope<T>) => boolean));
    if (options.timeoutMs !== undefined) stream = stream.pipe(timeoutOperator(options.timeoutMs));
    return firstValueFrom(stream).catch((error: unknown) => {
      if (error instanceof TimeoutError) throw new WaitForTimeoutError(describeEventName(selector), options.timeoutMs!);
      throw error;
    });
  }

  /**
   * Resolves when nothing is queued or running (events published by handlers meanwhile included,
   * retries included). With `timeoutMs`, rejects with DrainTimeoutError past it.
   */
  async drain(timeoutMs?: number): Promise<void> {
    if (!this.started && this.dispatcher.queued !== 0) throw new EventBusNotReadyError('drain()');
    const idle = this.whenSettled();
    if (timeoutMs === undefined) return idle;
    // `idle` never rejects: a rejection here is the timeout.
    await withTimeout(idle, timeoutMs).catch(() => {
      throw new DrainTimeoutError(timeoutMs, this.unfinishedCount());
    });
  }

  /** True once start-up finished (handlers registered) and events are being delivered. */
  get isStarted(): boolean {
    return this.started;
  }

  /** Every registration, for topology views. */
  handlers(): RegisteredHandler[] {
    return this.registry.list();
  }

  // ---------------------------------------------------------------- registration and lifecycle (internal)

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
    const handler = this.createHandler(label, target, invoke, instance, resolveInstance, options);
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
    if (this.transport !== undefined) await this.transport.start(this.transportHost());
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
    return (this.shutdownPromise ??= this.runShutdown());
  }

  private async runShutdown(): Promise<void> {
    this.closed = true;
    if (!this.started && this.dispatcher.queued !== 0) {
      this.logger.warn(
        `${this.dispatcher.queued} events were published but never delivered: the application was closed before it was initialised.`,
      );
      // They can never be delivered: do not wait shutdownTimeoutMs for them.
      this.dispatcher.abandon();
    }
    const deadline = Date.now() + this.shutdownTimeoutMs;
    if (this.transport !== undefined) {
      try {
        await withTimeout(this.transport.close(), this.shutdownTimeoutMs);
      } catch (error) {
        this.logger.error(`Transport ${this.transport.name} did not close cleanly: ${String(error)}`);
      }
    }
    const remaining = Math.max(0, deadline - Date.now());
    const finished = await withTimeout(this.whenSettled(), remaining).then(
      () => true,
      () => false,
    );
    if (!finished) {
      const unfinished = this.dispatcher.unfinishedByHandler();
      const total = [...unfinished.values()].reduce((a, b) => a + b, 0);
      const detail = [...unfinished].map(([label, n]) => `${label}: ${n}`).join(', ');
      this.logger.error(
        `Shutdown timed out after ${this.shutdownTimeoutMs}ms: ${total} handler runs did not finish (${detail}).`,
      );
      this.dispatcher.abandon();
    }
    this.stopped = true;
    // An enabled AsyncLocalStorage keeps Node's promise hooks on for the whole process: release it.
    this.dispatcher.context?.disable();
  }

  private whenSettled(): Promise<void> {
    if (this.sends.size === 0) return this.dispatcher.whenIdle();
    return Promise.all([...this.sends]).then(() => this.whenSettled());
  }

  private unfinishedCount(): number {
    let total = this.sends.size;
    for (const n of this.dispatcher.unfinishedByHandler().values()) total += n;
    return total;
  }

  private startDispatching(): void {
    if (this.started) return;
    this.started = true;
    this.dispatcher.start();
  }

  private createHandler(
    label: string,
    target: object,
    invoke: HandlerInvoker,
    instance: object | undefined,
    resolveInstance: InstanceResolver | undefined,
    options: HandlerOptions,
  ): Handler {
    let defaults: HandlerPolicy = this.options;
    if (options.policy !== undefined) {
      const policy = this.options.policies?.[options.policy];
      if (policy === undefined) {
        const known = Object.keys(this.options.policies ?? {});
        throw new InvalidHandlerError(
          `${label} uses the policy "${options.policy}", which EventBusModule's \`policies\` option does not define ` +
            `(${known.length === 0 ? 'it defines none' : `it defines: ${known.join(', ')}`}).`,
        );
      }
      defaults = { retry: policy.retry ?? this.options.retry, concurrency: policy.concurrency ?? this.options.concurrency, priority: policy.priority };
    }
    return new Handler(label, target, invoke, instance, resolveInstance, options, defaults, this.handlerSequence++);
  }

  private transportHost(): TransportHost {
    return {
      logger: this.logger,
      subscriptions: () => this.registry.subscribedNames(),
      deliver: (envelope, options) =>
        this.dispatcher.enqueueAndTrack(envelope as Envelope, options?.skipHandlers, options?.lastDelivery === false),
      settledHandlers: (envelope, report) => {
        const labels = this.registry.resolve(envelope.name, envelope.payload).map((h) => h.label);
        if (report.failed.length === 0) return labels;
        const failed = new Set(report.failed.map((f) => f.handler));
        return labels.filter((label) => !failed.has(label));
      },
      restoreEnvelope: (fields) => {
        const eventClass = this.registry.classForName(fields.name);
        const payload = eventClass !== undefined && isPlainObject(fields.payload) ? revive(eventClass, fields.payload) : fields.payload;
        return restoreEnvelope(this.ids, payload === fields.payload ? fields : { ...fields, payload });
      },
    };
  }
}

/** Shared by every `on()` without options, so a listener costs no options object. */
const NO_OPTIONS: HandlerOptions = Object.freeze({});

/** How an `on()` listener is called: the listener itself is the Handler's instance. */
const callListener: HandlerInvoker = (listener: EventListener, payload, envelope) => listener(payload, envelope);

function findListenerHandler(existing: Handler | Handler[] | undefined, selector: EventSelector): Handler | undefined {
  if (existing === undefined) return undefined;
  if (!Array.isArray(existing)) return existing.selector === selector ? existing : undefined;
  return existing.find((h) => h.selector === selector);
}

function isClassInstance(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto !== null && proto !== Object.prototype && typeof proto.constructor === 'function';
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Gives a payload received over the wire its class back, without running the constructor. */
function revive(eventClass: EventClass, fields: Record<string, unknown>): object {
  const event = Object.create(eventClass.prototype as object) as object;
  // Own data properties, as the constructor made them: a field named like a getter of the class shadows
  // it (assignment would throw on a getter-only accessor, or run a setter).
  for (const key of Object.keys(fields)) {
    Object.defineProperty(event, key, { value: fields[key], writable: true, enumerable: true, configurable: true });
  }
  return event;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms}ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
