import type { EventClass } from './event-name.js';

/**
 * Event classes declared with `@Event(name)` in this process, by name: an event received from a
 * transport is revived as an instance of its class whenever the class is known here, whoever handles
 * it (a handler subscribed by name gets an instance too). Like reflect-metadata, this is type metadata
 * of the process, not application state; it lives under a global symbol so two copies of the library
 * (ESM and CommonJS) share it. Two classes declared under one name make the name ambiguous: then only a
 * class subscription of the application decides.
 */
const CATALOG = Symbol.for('nestjs-event-bus:event-classes');

type Catalog = Map<string, EventClass | null>;

function catalog(): Catalog {
  const holder = globalThis as { [CATALOG]?: Catalog };
  return (holder[CATALOG] ??= new Map());
}

export function declareEventClass(name: string, eventClass: EventClass): void {
  const known = catalog();
  const existing = known.get(name);
  known.set(name, existing === undefined || existing === eventClass ? eventClass : null);
}

/** The one class declared under `name`, if exactly one was. */
export function declaredEventClass(name: string): EventClass | undefined {
  return catalog().get(name) ?? undefined;
}
