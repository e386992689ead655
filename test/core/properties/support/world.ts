import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BackpressureError,
  BufferOverflowError,
  EventBus,
  EventBusClosedError,
  EventBusModule,
  EventPublisher,
  type DeliveryReport,
  type EventBusModuleOptions,
  type EventEnvelope,
  type HandlerOptions,
} from '../../../../lib/index.js';
import { play, type Behaviour, type PolicySpec, type RetrySpec } from './behaviour.js';
import { describeSelector, OrderPlaced, PriorityOrder, selectorMatches, type GeneratedPayload, type GeneratedSelector } from './events.js';
import { PROVIDER_HANDLERS, ScopedListener, StaticListener, WORLD, type HandlerHost, type PolicyName } from './providers.js';

export interface ListenerSpec {
  selector: GeneratedSelector;
  options: PolicySpec;
  filtered: boolean;
  behaviour: Behaviour;
  initiallyOn: boolean;
}

export interface WorldConfig {
  listeners: ListenerSpec[];
  /** Also register the @OnEvent providers (static and request-scoped). */
  providers: boolean;
  policies: Record<PolicyName, PolicySpec>;
  providerBehaviours: Record<string, Behaviour>;
  moduleRetry?: RetrySpec;
  moduleConcurrency?: number;
  maxQueued?: number;
  shutdownTimeoutMs?: number;
  maxBufferedBeforeReady?: number;
}

/** A publish made before app.init() (in a constructor or onModuleInit, as API.md §5.3 allows). */
export interface EarlyPublish {
  form: PublishForm;
  name: string;
  wait: boolean;
}

/** One handler as the model sees it: what it subscribes to and its effective policy. */
export interface HandlerModel {
  label: string;
  selectors: readonly GeneratedSelector[];
  kind: 'listener' | 'static' | 'scoped';
  filtered: boolean;
  behaviour: Behaviour;
  attempts: number;
  concurrency: number;
  priority: number;
  /** Clocks at which an on()/off() toggled it (listeners only). */
  toggles: number[];
  /**
   * Registration number: off() then on() again is a new registration, with its own concurrency
   * slots (a run of the old one may still be finishing).
   */
  epoch: number;
  initiallyOn: boolean;
}

export interface CallRecord {
  seq: number;
  attempt: number;
  start: number;
  end?: number;
  ok?: boolean;
  instanceId?: number;
  /** The handler's registration number when it started (see HandlerModel.epoch). */
  epoch: number;
}

export type PublishForm = 'name' | 'class' | 'subclass' | 'nameWithInstance';

export interface EventRecord {
  seq: number;
  name: string;
  payload: GeneratedPayload;
  acceptedAt: number;
  envelope?: EventEnvelope;
  refused?: unknown;
  via: 'publish' | 'publishAndWait' | 'followUp';
  parent?: EventEnvelope;
  dispatchedAt?: number;
  report?: Tracked<DeliveryReport>;
  /** For publishAndWait: whether every stable handler had finished when the report resolved. */
  completeAtReport?: boolean;
}

export interface Tracked<T> {
  what: string;
  /** Resolves once the promise settled, either way. */
  done: Promise<void>;
  state: 'pending' | 'resolved' | 'rejected';
  value?: T;
  error?: unknown;
}

export const LISTENER_LABELS = ['L0', 'L1', 'L2', 'L3', 'L4', 'L5'];
export const ALL_LABELS = [...LISTENER_LABELS, ...PROVIDER_HANDLERS.map((h) => h.label)];

/**
 * One generated application and everything observed in it: events (by publish sequence), handler
 * calls, failures, and the violations found while it ran (the checks after the run add the rest).
 */
export class World implements HandlerHost {
  clock = 0;
  readonly handlers = new Map<string, HandlerModel>();
  readonly events = new Map<number, EventRecord>();
  readonly calls = new Map<string, CallRecord[]>();
  readonly failures: { seq: number; label: string; attempt: number; final: boolean }[] = [];
  readonly deadLetters: { seq: number; label: string }[] = [];
  readonly violations: string[] = [];
  readonly tracked: Tracked<unknown>[] = [];
  readonly active = new Map<string, number>();
  /** Labels of listeners currently registered, with their remover. */
  private readonly registered = new Map<string, () => void>();
  private readonly listenerFns = new Map<string, (payload: GeneratedPayload, envelope: EventEnvelope) => unknown>();
  private seqCounter = 0;
  private instanceCounter = 0;
  private publishing = 0;
  closeRequested = false;
  /** Set when close() starts: true if its timeout may fire (a handler never settles, a short timeout). */
  mayAbandon = false;
  closeResolvedAt: number | undefined;
  app!: INestApplicationContext;
  bus!: EventBus;
  publisher!: EventPublisher;

  constructor(readonly config: WorldConfig) {
    config.listeners.forEach((spec, i) => {
      const retry = spec.options.retry ?? config.moduleRetry;
      this.handlers.set(LISTENER_LABELS[i], {
        label: LISTENER_LABELS[i],
        selectors: [spec.selector],
        kind: 'listener',
        filtered: spec.filtered,
        behaviour: spec.behaviour,
        attempts: retry?.attempts ?? 1,
        concurrency: spec.options.concurrency ?? config.moduleConcurrency ?? Infinity,
        priority: spec.options.priority ?? 0,
        toggles: [],
        epoch: 0,
        initiallyOn: spec.initiallyOn,
      });
    });
    if (config.providers) {
      for (const h of PROVIDER_HANDLERS) {
        const policy = config.policies[h.policy];
        const retry = policy.retry ?? config.moduleRetry;
        this.handlers.set(h.label, {
          label: h.label,
          selectors: h.selectors,
          kind: h.scoped ? 'scoped' : 'static',
          filtered: h.filtered,
          behaviour: config.providerBehaviours[h.label],
          attempts: retry?.attempts ?? 1,
          concurrency: policy.concurrency ?? config.moduleConcurrency ?? Infinity,
          priority: policy.priority ?? 0,
          toggles: [],
          epoch: 0,
          initiallyOn: true,
        });
      }
    }
  }

  /**
   * Builds and initialises the application. `early` publishes happen between compile() and init(),
   * with the listeners already added (so the model's "subscribed at publish" holds for them).
   */
  async start(early: readonly EarlyPublish[] = []): Promise<void> {
    const options: EventBusModuleOptions = { logger: false, policies: this.config.policies };
    if (this.config.moduleRetry !== undefined) options.retry = this.config.moduleRetry;
    if (this.config.moduleConcurrency !== undefined) options.concurrency = this.config.moduleConcurrency;
    if (this.config.maxQueued !== undefined) options.maxQueued = this.config.maxQueued;
    if (this.config.shutdownTimeoutMs !== undefined) options.shutdownTimeoutMs = this.config.shutdownTimeoutMs;
    if (this.config.maxBufferedBeforeReady !== undefined) options.maxBufferedBeforeReady = this.config.maxBufferedBeforeReady;
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRoot(options)],
      providers: [{ provide: WORLD, useValue: this }, ...(this.config.providers ? [StaticListener, ScopedListener] : [])],
    }).compile();
    this.app = moduleRef.createNestApplication({ logger: false });
    this.bus = this.app.get(EventBus);
    this.publisher = this.app.get(EventPublisher);
    this.bus.events$.subscribe((envelope) => this.onDispatched(envelope));
    this.bus.errors$.subscribe((f) => {
      if (this.closeResolvedAt !== undefined) this.violation(`errors$ emitted ${f.handler} on #${seqOf(f.envelope)} after close() resolved`);
      this.failures.push({ seq: seqOf(f.envelope), label: f.handler, attempt: f.attempt, final: f.final });
    });
    this.bus.deadLetters$.subscribe((f) => this.deadLetters.push({ seq: seqOf(f.envelope), label: f.handler }));
    this.config.listeners.forEach((spec, i) => {
      const label = LISTENER_LABELS[i];
      // A named function: on() labels a listener by its name (HandlerFailure.handler).
      const fn = { [label]: (payload: GeneratedPayload, envelope: EventEnvelope) => this.invoke(label, payload, envelope) }[label];
      this.listenerFns.set(label, fn);
      if (spec.initiallyOn) this.register(label);
    });
    for (const publish of early) this.earlySeqs.push(this.publish(publish.form, publish.name, [], publish.wait ? 'publishAndWait' : 'publish').seq);
    await this.app.init();
  }

  /** Events published before init(), in publish order. */
  readonly earlySeqs: number[] = [];
  /** Set by the program: checks what needs the whole run (dispatch order of the early events). */
  earlyCheck: (() => void) | undefined;

  // ---------------------------------------------------------------- operations

  publish(form: PublishForm, name: string, reject: readonly string[], via: EventRecord['via'], parent?: EventEnvelope): EventRecord {
    const seq = ++this.seqCounter;
    const depth = parent === undefined ? 0 : 1;
    let payload: GeneratedPayload;
    let eventName = name;
    if (form === 'class') {
      payload = new OrderPlaced(seq, depth, reject);
      eventName = 'order.placed';
    } else if (form === 'subclass') {
      payload = new PriorityOrder(seq, depth, reject);
      eventName = 'PriorityOrder';
    } else if (form === 'nameWithInstance') {
      payload = new PriorityOrder(seq, depth, reject);
    } else {
      payload = { seq, depth, reject };
    }
    const record: EventRecord = { seq, name: eventName, payload, acceptedAt: ++this.clock, via, parent };
    this.events.set(seq, record);
    this.publishing++;
    try {
      if (via === 'publishAndWait') {
        const promise = form === 'class' || form === 'subclass' ? this.publisher.publishAndWait(payload) : this.publisher.publishAndWait(name, payload);
        record.report = this.track(
          `publishAndWait #${seq}`,
          promise,
          () => {
            record.completeAtReport = this.isComplete(record);
          },
          (error) => {
            // Admission refusals reach publishAndWait's caller as a rejection: the event was never accepted.
            if (error instanceof BufferOverflowError || error instanceof BackpressureError || error instanceof EventBusClosedError) record.refused = error;
          },
        );
      } else {
        record.envelope = form === 'class' || form === 'subclass' ? this.publisher.publish(payload) : this.publisher.publish(name, payload);
      }
    } catch (error) {
      record.refused = error;
    } finally {
      this.publishing--;
    }
    return record;
  }

  /** Toggles listener `label` with on() / off() / the remover on() returned. */
  toggle(label: string, via: 'off' | 'remover'): void {
    const handler = this.handlers.get(label);
    if (handler === undefined) return;
    handler.toggles.push(++this.clock);
    const remover = this.registered.get(label);
    if (remover === undefined) {
      handler.epoch++;
      this.register(label);
      return;
    }
    this.registered.delete(label);
    if (via === 'remover') remover();
    else this.bus.off(handler.selectors[0], this.listenerFns.get(label)!);
  }

  track<T>(what: string, promise: Promise<T>, onResolved?: (value: T) => void, onRejected?: (error: unknown) => void): Tracked<T> {
    const tracked = { what, state: 'pending' } as Tracked<T>;
    this.tracked.push(tracked as Tracked<unknown>);
    tracked.done = promise.then(
      (value) => {
        tracked.state = 'resolved';
        tracked.value = value;
        onResolved?.(value);
      },
      (error: unknown) => {
        tracked.state = 'rejected';
        tracked.error = error;
        onRejected?.(error);
      },
    );
    return tracked;
  }

  /** drain(): when it resolves, nothing may be queued or running (checked right then). */
  drain(timeoutMs?: number): Tracked<void> {
    const at = ++this.clock;
    return this.track(`drain(${timeoutMs ?? ''}) at clock ${at}`, this.bus.drain(timeoutMs), () => this.checkIdle(`drain(${timeoutMs ?? ''}) called at ${at} resolved`, at));
  }

  // ---------------------------------------------------------------- what the bus calls

  nextInstanceId(): number {
    return ++this.instanceCounter;
  }

  invoke(label: string, payload: GeneratedPayload, envelope: EventEnvelope, scoped?: ScopedListener): unknown {
    const now = ++this.clock;
    const handler = this.handlers.get(label)!;
    const where = `${label} on #${payload.seq} attempt ${envelope.attempt}`;
    if (this.publishing !== 0) this.violation(`${where} ran inside publish()`);
    if (this.closeResolvedAt !== undefined) this.violation(`${where} started after close() resolved`);
    let calls = this.calls.get(`${label}#${payload.seq}`);
    if (calls === undefined) this.calls.set(`${label}#${payload.seq}`, (calls = []));
    if (envelope.attempt !== calls.length + 1) this.violation(`${where}: expected attempt ${calls.length + 1}`);
    const record: CallRecord = { seq: payload.seq, attempt: envelope.attempt, start: now, instanceId: scoped?.id, epoch: handler.epoch };
    calls.push(record);
    const event = this.events.get(payload.seq);
    const eventId = event?.envelope?.id ?? event?.report?.value?.envelope.id;
    if (eventId !== undefined && envelope.id !== eventId) this.violation(`${where}: envelope id ${envelope.id}, published as ${eventId}`);
    if (scoped !== undefined && scoped.envelope?.id !== envelope.id) this.violation(`${where}: the injected EVENT_ENVELOPE is another event's`);
    if (handler.kind === 'listener' && envelope.attempt === 1 && !this.registered.has(label)) this.violation(`${where} started after off()`);
    // Retries continue the run they belong to, in the registration it started in.
    const epoch = envelope.attempt === 1 ? handler.epoch : calls[0].epoch;
    record.epoch = epoch;
    const slot = `${label}@${epoch}`;
    const active = (this.active.get(slot) ?? 0) + 1;
    this.active.set(slot, active);
    if (active > handler.concurrency) this.violation(`${where}: ${active} calls in flight, concurrency ${handler.concurrency}`);
    const body = () => {
      const followUp = handler.behaviour.followUp;
      if (followUp !== undefined && payload.depth === 0) {
        const child = this.publish('name', followUp, [], 'followUp', envelope);
        if (child.refused === undefined && child.envelope !== undefined) {
          if (child.envelope.causationId !== envelope.id) this.violation(`follow-up #${child.seq} of ${where}: causationId ${String(child.envelope.causationId)}, expected ${envelope.id}`);
          if (child.envelope.correlationId !== envelope.correlationId) this.violation(`follow-up #${child.seq} of ${where}: correlationId not inherited`);
        }
      }
    };
    return play(handler.behaviour, envelope.attempt, body, (ok) => {
      record.end = ++this.clock;
      record.ok = ok;
      this.active.set(slot, this.active.get(slot)! - 1);
    });
  }

  private onDispatched(envelope: EventEnvelope): void {
    const now = ++this.clock;
    const seq = seqOf(envelope);
    if (this.publishing !== 0) this.violation(`events$ emitted #${seq} inside publish()`);
    if (this.closeResolvedAt !== undefined) this.violation(`events$ emitted #${seq} after close() resolved`);
    const record = this.events.get(seq);
    if (record === undefined) return this.violation(`events$ emitted an event nobody published: ${String(envelope.name)}`);
    if (record.refused !== undefined) this.violation(`#${seq} was refused (${String(record.refused)}) yet dispatched`);
    if (record.dispatchedAt !== undefined) this.violation(`events$ emitted #${seq} twice`);
    record.dispatchedAt = now;
  }

  // ---------------------------------------------------------------- the model's view

  private register(label: string): void {
    const spec = this.config.listeners[LISTENER_LABELS.indexOf(label)];
    const options: HandlerOptions = { ...spec.options };
    if (spec.filtered) options.filter = (payload: GeneratedPayload) => !payload.reject.includes(label);
    this.registered.set(label, this.bus.on(spec.selector as never, this.listenerFns.get(label)!, options));
  }

  /** Whether `handler` was registered at `clock` (listeners toggle; providers always are). */
  registeredAt(handler: HandlerModel, clock: number): boolean {
    const before = handler.toggles.filter((t) => t < clock).length;
    return handler.initiallyOn !== (before % 2 === 1);
  }

  /**
   * 'must': the event must reach the handler (subscribed from publish on, never toggled since);
   * 'never': it must not; 'may': toggled in between, either is right.
   */
  expectation(handler: HandlerModel, event: EventRecord): 'must' | 'never' | 'may' {
    if (event.refused !== undefined) return 'never';
    if (!handler.selectors.some((s) => selectorMatches(s, event.name, event.payload))) return 'never';
    if (handler.filtered && event.payload.reject.includes(handler.label)) return 'never';
    const toggledSince = handler.toggles.some((t) => t > event.acceptedAt);
    const on = this.registeredAt(handler, event.acceptedAt);
    if (!toggledSince) return on ? 'must' : 'never';
    return 'may';
  }

  callsOf(label: string, seq: number): CallRecord[] {
    return this.calls.get(`${label}#${seq}`) ?? [];
  }

  /** Attempts a handler owes an event: its failures plus one, within its retry policy. */
  owed(handler: HandlerModel): number {
    return Math.min(handler.behaviour.failures + 1, handler.attempts);
  }

  /** Dispatched, and every handler that must see it has finished all the attempts it owes. */
  isComplete(event: EventRecord): boolean {
    if (event.refused !== undefined) return true;
    if (event.dispatchedAt === undefined) return false;
    for (const handler of this.handlers.values()) {
      if (this.expectation(handler, event) !== 'must') continue;
      const calls = this.callsOf(handler.label, event.seq);
      if (calls.length < this.owed(handler) || calls.some((c) => c.end === undefined)) return false;
    }
    return true;
  }

  /** Why an event is not complete: not dispatched, or which handler still owes what. */
  whyUnfinished(event: EventRecord): string {
    if (event.dispatchedAt === undefined) return `#${event.seq} (${event.name}, published at ${event.acceptedAt}): not dispatched`;
    const owing: string[] = [];
    for (const handler of this.handlers.values()) {
      if (this.expectation(handler, event) !== 'must') continue;
      const calls = this.callsOf(handler.label, event.seq);
      if (calls.length < this.owed(handler) || calls.some((c) => c.end === undefined)) {
        owing.push(`${handler.label} ran ${calls.length}/${this.owed(handler)}${calls.some((c) => c.end === undefined) ? ' (one still running)' : ''}`);
      }
    }
    return `#${event.seq} (${event.name}, published at ${event.acceptedAt}, dispatched at ${event.dispatchedAt}): ${owing.join(', ')}`;
  }

  /** Accepted events not complete yet (never more than the bus's own count: see isComplete). */
  unfinished(): EventRecord[] {
    return [...this.events.values()].filter((e) => e.refused === undefined && !this.isComplete(e));
  }

  /**
   * Called when a drain() called at `calledAt` resolved: the bus was idle at some moment since, so every
   * event accepted before the call is complete (later ones may legitimately still run).
   */
  checkIdle(what: string, calledAt: number): void {
    // A close() that gave up abandons what still runs; a drain settling then is not a claim of idleness.
    if (this.closeRequested && this.mayAbandon) return;
    const unfinished = this.unfinished().filter((e) => e.acceptedAt < calledAt);
    if (unfinished.length !== 0) this.violation(`${what} with ${unfinished.length} earlier events unfinished, first ${this.whyUnfinished(unfinished[0])}`);
  }

  violation(message: string): void {
    if (this.violations.length < 50) this.violations.push(message);
  }

  describe(): string {
    const handlers = [...this.handlers.values()].map(
      (h) =>
        `${h.label} ${h.selectors.map(describeSelector).join('|')} attempts=${h.attempts} conc=${h.concurrency} prio=${h.priority}` +
        ` filtered=${h.filtered} ${JSON.stringify(h.behaviour)} on=${h.initiallyOn} toggles=${h.toggles.join(',')}`,
    );
    return handlers.join('\n');
  }
}

function seqOf(envelope: EventEnvelope): number {
  return (envelope.payload as GeneratedPayload | undefined)?.seq ?? -1;
}
