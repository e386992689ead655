import { EVENT_NAME_METADATA } from './constants.js';
import type { EventName } from './event-envelope.js';
import { InvalidEventError } from './errors.js';

/** A class whose instances are published as events. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventClass<T = any> = abstract new (...args: any[]) => T;

/** What a handler can subscribe to: a name, a pattern (`order.*`, `order.**`) or an event class. */
export type EventSelector = EventName | EventClass;

export function describeEventName(name: unknown): string {
  if (typeof name === 'symbol') return name.toString();
  if (typeof name === 'function') return name.name || 'anonymous class';
  return typeof name === 'string' ? name : String(name);
}

/** True for a string that uses `*` / `**` segments. Throws for a `*` inside a segment. */
export function isPattern(name: string): boolean {
  if (!name.includes('*')) return false;
  for (const segment of name.split('.')) {
    if (segment.includes('*') && segment !== '*' && segment !== '**') {
      throw new InvalidEventError(
        `"${name}" is not a valid event pattern: "*" must be a whole segment ("order.*" matches exactly one segment, ` +
          `"order.**" one or more), not part of one ("${segment}").`,
      );
    }
  }
  return true;
}

/** Checks a name given to `publish`. */
export function assertPublishableName(name: unknown): asserts name is EventName {
  if (typeof name === 'symbol') return;
  if (typeof name !== 'string') {
    throw new InvalidEventError(
      `An event name must be a non-empty string or a symbol, got ${name === null ? 'null' : typeof name}. ` +
        'Pass a name (publish("order.placed", payload)) or an instance of an event class (publish(new OrderPlaced())).',
    );
  }
  // Only a name that starts or ends with white space can be blank: skip trim() on the hot path otherwise.
  if (name.length === 0 || ((name.charCodeAt(0) <= 32 || name.charCodeAt(name.length - 1) <= 32) && name.trim().length === 0)) {
    throw new InvalidEventError('An event name cannot be empty: publish("order.placed", payload).');
  }
  if (name.includes('*')) {
    throw new InvalidEventError(
      `"${name}" is a pattern, not an event name: patterns are for @OnEvent and ofEvent(); publish a concrete name.`,
    );
  }
  if (name.charCodeAt(0) === DOT || name.charCodeAt(name.length - 1) === DOT || name.includes('..')) {
    throw new InvalidEventError(
      `"${name}" has an empty segment: event names are dot-separated segments, none empty (e.g. "order.created").`,
    );
  }
}

const DOT = 46;

/** Checks what `@OnEvent` / `on()` subscribe to; returns why it is wrong, or undefined. */
export function selectorProblem(selector: unknown): string | undefined {
  if (typeof selector === 'symbol') return undefined;
  if (typeof selector === 'function') return undefined;
  if (typeof selector !== 'string') {
    return `an event must be a name, a pattern, a symbol or an event class, got ${selector === null ? 'null' : typeof selector}`;
  }
  if (selector.trim().length === 0) return 'the event name is empty';
  try {
    isPattern(selector);
  } catch (error) {
    return (error as Error).message;
  }
  if (selector.split('.').some((s) => s.length === 0)) return `"${selector}" has an empty segment`;
  return undefined;
}

/**
 * The one class-matching rule, for handlers, `ofEvent` and `waitFor` alike: `value instanceof eventClass`
 * by the prototype chain (a payload's `constructor` property is not consulted).
 */
export function isInstanceOfClass(value: unknown, eventClass: EventClass): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const target = eventClass.prototype as object | undefined;
  for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (proto === target) return true;
  }
  return false;
}

/** Compiles a pattern into a predicate over event names: '*' = one segment, '**' = one or more. */
export function compilePattern(pattern: string): (name: EventName) => boolean {
  const parts = pattern.split('.');
  return (name) => typeof name === 'string' && matchSegments(parts, 0, name.split('.'), 0);
}

function matchSegments(pattern: string[], p: number, name: string[], n: number): boolean {
  while (p < pattern.length) {
    const part = pattern[p];
    if (part === '**') {
      if (p === pattern.length - 1) return n < name.length;
      for (let k = n + 1; k <= name.length; k++) {
        if (matchSegments(pattern, p + 1, name, k)) return true;
      }
      return false;
    }
    if (n >= name.length) return false;
    if (part !== '*' && part !== name[n]) return false;
    p++;
    n++;
  }
  return n === name.length;
}

/** The name a class event travels under: `@Event('order.placed')`, else the class name. Not inherited. */
export function eventNameOfClass(eventClass: EventClass): string {
  const explicit: string | undefined = Reflect.getOwnMetadata(EVENT_NAME_METADATA, eventClass);
  return explicit ?? eventClass.name;
}
