import type { EventName } from '../event-envelope.js';
import { compilePattern, describeEventName, eventNameOfClass, isPattern, type EventClass, type EventSelector } from '../event-name.js';
import { declaredEventClass } from '../event-class-catalog.js';
import type { Handler } from '../handler.js';
import type { RegisteredHandler } from '../interfaces/registered-handler.interface.js';

interface PatternSubscription {
  pattern: string;
  matches: (name: EventName) => boolean;
  handler: Handler;
}

const NO_HANDLERS: readonly Handler[] = Object.freeze([]);
/** Resolved handler lists kept per cache (by name; by class and name); past it the cache starts over. */
const MAX_CACHED_LISTS = 10_000;

/**
 * Who handles what. Subscriptions are indexed by exact name, by event class, and as a short list of
 * patterns; the handler list of a published name (or class) is resolved once and cached, so publishing
 * costs a map lookup and work proportional to that event's handlers, never to all handlers.
 */
export class HandlerRegistry {
  /** A name's (or class's) handlers: the Handler itself for the usual one, an array past that. */
  private readonly byName = new Map<EventName, Handler | Handler[]>();
  private readonly byClass = new Map<EventClass, Handler | Handler[]>();
  /** The same subscriptions keyed by `Class.prototype`: matching walks the payload's prototype chain. */
  private readonly byPrototype = new Map<object, Handler | Handler[]>();
  private readonly patterns: PatternSubscription[] = [];
  /** Every subscription in registration order, as two parallel arrays (no object per subscription). */
  private readonly allSelectors: EventSelector[] = [];
  private readonly allHandlers: Handler[] = [];

  private readonly resolvedByName = new Map<EventName, readonly Handler[]>();
  /** By the payload's prototype, then by name. */
  private readonly resolvedByClass = new Map<object, Map<EventName, readonly Handler[]>>();
  private resolvedByClassCount = 0;
  private readonly classNames = new Map<Function, string>();
  /** Event classes by published name, for reviving events received from a transport (rebuilt on change). */
  private classesByName: Map<string, EventClass> | undefined;

  add(selector: EventSelector, handler: Handler): void {
    if (typeof selector === 'function') {
      push(this.byClass, selector, handler);
      push(this.byPrototype, selector.prototype as object, handler);
    } else if (typeof selector === 'string' && isPattern(selector)) {
      this.patterns.push({ pattern: selector, matches: compilePattern(selector), handler });
    } else {
      push(this.byName, selector, handler);
    }
    this.allSelectors.push(selector);
    this.allHandlers.push(handler);
    this.invalidate();
  }

  /** Removes the subscription of `handler` to `selector`. */
  remove(handler: Handler, selector: EventSelector): void {
    if (typeof selector === 'function') {
      pull(this.byClass, selector, handler);
      pull(this.byPrototype, selector.prototype as object, handler);
    } else if (typeof selector === 'string' && isPattern(selector)) {
      const index = this.patterns.findIndex((p) => p.handler === handler && p.pattern === selector);
      if (index !== -1) this.patterns.splice(index, 1);
    } else pull(this.byName, selector, handler);
    for (let i = 0; i < this.allHandlers.length; i++) {
      if (this.allHandlers[i] === handler && this.allSelectors[i] === selector) {
        this.allHandlers.splice(i, 1);
        this.allSelectors.splice(i, 1);
        break;
      }
    }
    this.invalidate();
  }

  /** The handlers of an event, highest priority first, each once. */
  resolve(name: EventName, payload: unknown): readonly Handler[] {
    if (this.byPrototype.size !== 0 && typeof payload === 'object' && payload !== null) {
      const proto = prototypeOf(payload);
      if (proto !== Object.prototype && proto !== null) return this.resolveForPrototype(proto, name);
    }
    let handlers = this.resolvedByName.get(name);
    if (handlers === undefined) {
      handlers = this.collect(name, null);
      if (this.resolvedByName.size >= MAX_CACHED_LISTS) this.resolvedByName.clear();
      this.resolvedByName.set(name, handlers);
    }
    return handlers;
  }

  /** The name a class event is published under (cached). */
  nameOfClass(eventClass: Function): string {
    let name = this.classNames.get(eventClass);
    if (name === undefined) {
      name = eventNameOfClass(eventClass as EventClass);
      this.classNames.set(eventClass, name);
    }
    return name;
  }

  /** An event class handled here whose published name is `name` (to revive events from a transport). */
  classForName(name: string): EventClass | undefined {
    if (this.classesByName === undefined) {
      this.classesByName = new Map();
      for (const eventClass of this.byClass.keys()) this.classesByName.set(this.nameOfClass(eventClass), eventClass);
    }
    // Else a class declared with @Event in this process: handlers subscribed by name get instances too.
    return this.classesByName.get(name) ?? declaredEventClass(name);
  }

  /** String names and patterns subscribed to (class subscriptions under their event names). */
  subscribedNames(): string[] {
    const names = new Set<string>();
    for (const selector of this.allSelectors) {
      if (typeof selector === 'string') names.add(selector);
      else if (typeof selector === 'function') names.add(this.nameOfClass(selector));
    }
    return [...names];
  }

  list(): RegisteredHandler[] {
    return this.allHandlers.map((handler, i) => {
      const selector = this.allSelectors[i];
      return {
        event: typeof selector === 'function' ? describeEventName(selector) : selector,
        handler: handler.label,
        options: handler.options,
        effective: {
          retry: handler.retry,
          concurrency: handler.concurrency === Infinity ? undefined : handler.concurrency,
          priority: handler.priority,
        },
      };
    });
  }

  handlers(): Handler[] {
    return [...new Set(this.allHandlers)];
  }

  private resolveForPrototype(proto: object, name: EventName): readonly Handler[] {
    let byName = this.resolvedByClass.get(proto);
    let handlers = byName?.get(name);
    if (handlers !== undefined) return handlers;
    handlers = this.collect(name, proto);
    // Bounded like the by-name cache: class instances published under many distinct names must not grow it.
    if (this.resolvedByClassCount >= MAX_CACHED_LISTS) {
      this.resolvedByClass.clear();
      this.resolvedByClassCount = 0;
      byName = undefined;
    }
    if (byName === undefined) {
      byName = new Map();
      this.resolvedByClass.set(proto, byName);
    }
    byName.set(name, handlers);
    this.resolvedByClassCount++;
    return handlers;
  }

  private collect(name: EventName, proto: object | null): readonly Handler[] {
    const found: Handler[] = [];
    const add = (entry: Handler | Handler[] | undefined) => {
      if (entry === undefined) return;
      if (Array.isArray(entry)) found.push(...entry);
      else found.push(entry);
    };
    add(this.byName.get(name));
    for (const p of this.patterns) if (p.matches(name)) found.push(p.handler);
    // instanceof semantics: every prototype on the payload's chain.
    for (let p = proto; p !== null && p !== Object.prototype; p = prototypeOf(p)) add(this.byPrototype.get(p));
    if (found.length === 0) return NO_HANDLERS;
    found.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
    const seen = new Set<object>();
    return found.filter((h) => (seen.has(h.target) ? false : (seen.add(h.target), true)));
  }

  private invalidate(): void {
    this.resolvedByName.clear();
    this.resolvedByClass.clear();
    this.resolvedByClassCount = 0;
    this.classesByName = undefined;
  }
}

/** A proxy's getPrototypeOf trap may throw: such a payload matches no class (it must not break dispatch). */
function prototypeOf(value: object): object | null {
  try {
    return Object.getPrototypeOf(value) as object | null;
  } catch {
    return null;
  }
}

function push<K>(map: Map<K, Handler | Handler[]>, key: K, handler: Handler): void {
  const entry = map.get(key);
  if (entry === undefined) map.set(key, handler);
  else if (Array.isArray(entry)) entry.push(handler);
  else map.set(key, [entry, handler]);
}

function pull<K>(map: Map<K, Handler | Handler[]>, key: K, handler: Handler): void {
  const entry = map.get(key);
  if (entry === undefined) return;
  if (!Array.isArray(entry)) {
    if (entry === handler) map.delete(key);
    return;
  }
  const index = entry.indexOf(handler);
  if (index === -1) return;
  if (entry.length === 2) map.set(key, entry[1 - index]);
  else entry.splice(index, 1);
}
