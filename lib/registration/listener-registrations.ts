import { InvalidEventError, InvalidHandlerError } from '../errors.js';
import type { EventEnvelope } from '../event-envelope.js';
import { selectorProblem, type EventSelector } from '../event-name.js';
import type { Handler, HandlerInvoker } from '../handler.js';
import type { HandlerOptions } from '../interfaces/handler-options.interface.js';
import { handlerOptionsProblems } from '../options/handler-options-rules.js';
import type { HandlerFactory } from './handler-factory.js';
import type { HandlerRegistry } from './handler-registry.js';

/** A run-time listener added with `EventBus.on()`. */
export type EventListener<TPayload = any> = (payload: TPayload, envelope: EventEnvelope<TPayload>) => unknown;

/** Shared by every `on()` without options, so a listener costs no options object. */
const NO_OPTIONS: HandlerOptions = Object.freeze({});

/** How an `on()` listener is called: the listener itself is the Handler's instance. */
const callListener: HandlerInvoker = (listener: EventListener, payload, envelope) => listener(payload, envelope);

/**
 * `EventBus.on()` / `off()`: set semantics per (event, listener), one Handler per registration.
 * Removing a listener drops its runs still waiting for a slot (`dropWaiting`).
 */
export class ListenerRegistrations {
  /** By listener: one Handler (the usual case), or several for several events. */
  private readonly listeners = new Map<Function, Handler | Handler[]>();

  constructor(
    private readonly registry: HandlerRegistry,
    private readonly factory: HandlerFactory,
    private readonly dropWaiting: (handler: Handler) => void,
  ) {}

  add(selector: EventSelector, listener: EventListener, options: HandlerOptions = NO_OPTIONS): void {
    const problem = selectorProblem(selector);
    if (problem !== undefined) throw new InvalidEventError(`EventBus.on(): ${problem}.`);
    if (typeof listener !== 'function') throw new InvalidEventError('EventBus.on(): the listener must be a function.');
    if (options !== NO_OPTIONS) {
      const problems = handlerOptionsProblems(options);
      if (problems.length !== 0) throw new InvalidHandlerError(`EventBus.on(): ${problems.join('; ')}.`);
    }
    const existing = this.listeners.get(listener);
    if (find(existing, selector) !== undefined) return;
    const handler = this.factory.create(listener.name || 'anonymous listener', listener, callListener, listener, undefined, options);
    handler.selector = selector;
    this.listeners.set(listener, existing === undefined ? handler : Array.isArray(existing) ? [...existing, handler] : [existing, handler]);
    this.registry.add(selector, handler);
  }

  remove(selector: EventSelector, listener: EventListener): void {
    const existing = this.listeners.get(listener);
    const handler = find(existing, selector);
    if (handler === undefined) return;
    const rest = Array.isArray(existing) ? existing.filter((h) => h !== handler) : [];
    if (rest.length === 0) this.listeners.delete(listener);
    else this.listeners.set(listener, rest.length === 1 ? rest[0] : rest);
    this.registry.remove(handler, selector);
    handler.removed = true;
    this.dropWaiting(handler);
  }
}

function find(existing: Handler | Handler[] | undefined, selector: EventSelector): Handler | undefined {
  if (existing === undefined) return undefined;
  if (!Array.isArray(existing)) return existing.selector === selector ? existing : undefined;
  return existing.find((h) => h.selector === selector);
}
