import type { EventName } from './event-envelope.js';
import { compilePattern, describeEventName, eventNameOfClass, isPattern, type EventClass, type EventSelector } from './event-name.js';
import type { Handler } from './handler.js';
import type { RegisteredHandler } from './interfaces/registered-handler.interface.js';

interface Subscription {
  selector: EventSelector;
  handler: Handler;
}

interface PatternSubscription extends Subscription {
  matches: (name: EventName) => boolean;
}

const NO_HANDLERS: readonly Handler[] = Object.freeze([]);
/** Distinct names whose resolved handler lists are cached; past it the cache starts over. */
const MAX_CACHED_NAMES = 10_000;

/**
 * Who handles what. Subscriptions are indexed by exact name, by event class, and as a short list of
 * patterns; the handler list of a published name (or class) is resolved once and cached, so publishing
 * costs a map lookup and work proportional to that event's handlers, never to all handlers.
 */
export class HandlerRegistry {
  private readonly byName = new Map<EventName, Subscription[]>();
  private readonly byClass = new Map<EventClass, Subscription[]>();
  private readonly patterns: PatternSubscription[] = [];
  private readonly all: Subscription[] = [];

  private readonly resolvedByName = new Map<EventName, readonly Handler[]>();
  private readonly resolvedByClass = new Map<Function, Map<EventName, readonly Handler[]>>();
  private readonly classNames = new Map<Function, string>();

  add(selector: EventSelector, handler: Handler): void {
    const subscription: Subscription = { selector, handler };
    if (typeof selector === 'function') {
      push(this.byClass, selector, subscription);
    } else if (typeof selector === 'string' && isPattern(selector)) {
      this.patterns.push({ ...subscription, matches: compilePattern(selector) });
    } else {
      push(this.byName, selector, subscription);
    }
    this.all.push(subscription);
    this.invalidate();
  }

  /** Removes the subscriptions of `handler` (all of them, or only the one for `selector`). */
  remove(handler: Handler, selector?: EventSelector): void {
    const keep = (s: Subscription) => s.handler !== handler || (selector !== undefined && s.selector !== selector);
    for (const map of [this.byName, this.byClass] as Map<unknown, Subscription[]>[]) {
      for (const [key, list] of map) {
        const kept = list.filter(keep);
        if (kept.length === 0) map.delete(key);
        else map.set(key, kept);
      }
    }
    retain(this.patterns, keep);
    retain(this.all, keep);
    this.invalidate();
  }

  /** The handlers of an event, highest priority first, each once. */
  resolve(name: EventName, payload: unknown): readonly Handler[] {
    if (this.byClass.size !== 0 && typeof payload === 'object' && payload !== null) {
      const ctor = (payload as object).constructor;
      if (ctor !== Object && ctor !== undefined && typeof ctor === 'function') return this.resolveForClass(ctor, name);
    }
    let handlers = this.resolvedByName.get(name);
    if (handlers === undefined) {
      handlers = this.collect(name, undefined);
      if (this.resolvedByName.size >= MAX_CACHED_NAMES) this.resolvedByName.clear();
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
    for (const eventClass of this.byClass.keys()) {
      if (this.nameOfClass(eventClass) === name) return eventClass;
    }
    return undefined;
  }

  /** Whether an event published under `name` would reach a handler here. */
  hasHandlersFor(name: EventName): boolean {
    return this.resolve(name, undefined).length !== 0;
  }

  /** String names and patterns subscribed to (class subscriptions under their event names). */
  subscribedNames(): string[] {
    const names = new Set<string>();
    for (const s of this.all) {
      if (typeof s.selector === 'string') names.add(s.selector);
      else if (typeof s.selector === 'function') names.add(this.nameOfClass(s.selector));
    }
    return [...names];
  }

  list(): RegisteredHandler[] {
    return this.all.map((s) => ({
      event: typeof s.selector === 'function' ? describeEventName(s.selector) : s.selector,
      handler: s.handler.label,
      options: s.handler.options,
    }));
  }

  handlers(): Handler[] {
    return [...new Set(this.all.map((s) => s.handler))];
  }

  private resolveForClass(ctor: Function, name: EventName): readonly Handler[] {
    let byName = this.resolvedByClass.get(ctor);
    if (byName === undefined) {
      byName = new Map();
      this.resolvedByClass.set(ctor, byName);
    }
    let handlers = byName.get(name);
    if (handlers === undefined) {
      handlers = this.collect(name, ctor);
      byName.set(name, handlers);
    }
    return handlers;
  }

  private collect(name: EventName, ctor: Function | undefined): readonly Handler[] {
    const found: Handler[] = [];
    const add = (list: Subscription[] | undefined) => {
      if (list !== undefined) for (const s of list) found.push(s.handler);
    };
    add(this.byName.get(name));
    for (const p of this.patterns) if (p.matches(name)) found.push(p.handler);
    // instanceof semantics: every class on the payload's prototype chain.
    for (let proto = ctor?.prototype; proto != null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      add(this.byClass.get(proto.constructor));
    }
    if (found.length === 0) return NO_HANDLERS;
    found.sort((a, b) => b.priority - a.priority || a.sequence - b.sequence);
    const seen = new Set<object>();
    return found.filter((h) => (seen.has(h.target) ? false : (seen.add(h.target), true)));
  }

  private invalidate(): void {
    this.resolvedByName.clear();
    this.resolvedByClass.clear();
  }
}

function push<K>(map: Map<K, Subscription[]>, key: K, subscription: Subscription): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [subscription]);
  else list.push(subscription);
}

function retain<T>(list: T[], keep: (item: T) => boolean): void {
  let j = 0;
  for (let i = 0; i < list.length; i++) if (keep(list[i])) list[j++] = list[i];
  list.length = j;
}
