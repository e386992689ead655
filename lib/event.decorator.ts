import { EVENT_NAME_METADATA, EVENT_SCHEMA_METADATA } from './constants.js';
import { InvalidEventError } from './errors.js';
import { assertPublishableName, isPattern, type EventClass } from './event-name.js';
import { declareEventClass } from './event-class-catalog.js';

/** What `@Event` can say about an event class besides its name (for generated documentation). */
export interface EventOptions {
  /** The payload's JSON schema (used by the AsyncAPI document instead of one derived from class-validator). */
  schema?: Record<string, unknown>;
  /** A sentence for the AsyncAPI document. */
  description?: string;
}

/**
 * Gives an event class a stable name, used in envelopes and across processes (where class identity
 * does not exist). Without it, the class name is used. Subclasses do not inherit it.
 */
export function Event(name: string, options: EventOptions = {}): ClassDecorator {
  if (typeof name !== 'string' || name.trim().length === 0 || isPattern(name)) {
    throw new InvalidEventError(`@Event() needs a concrete event name such as 'order.placed', got ${String(name)}.`);
  }
  if (options === null || typeof options !== 'object') throw new InvalidEventError(`@Event('${name}', options): options must be an object.`);
  if (options.schema !== undefined && (options.schema === null || typeof options.schema !== 'object' || Array.isArray(options.schema))) {
    throw new InvalidEventError(`@Event('${name}', { schema }): the schema must be a JSON schema object, e.g. { type: 'object', properties: {...} }.`);
  }
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new InvalidEventError(`@Event('${name}', { description }): the description must be a string.`);
  }
  assertPublishableName(name);
  return (target) => {
    Reflect.defineMetadata(EVENT_NAME_METADATA, name, target as unknown as EventClass);
    declareEventClass(name, target as unknown as EventClass);
    if (options.schema !== undefined || options.description !== undefined) {
      Reflect.defineMetadata(EVENT_SCHEMA_METADATA, { ...options }, target as unknown as EventClass);
    }
  };
}

/** What `@Event` declared on the class itself (not inherited). */
export function eventOptionsOfClass(eventClass: EventClass): EventOptions | undefined {
  return Reflect.getOwnMetadata(EVENT_SCHEMA_METADATA, eventClass);
}
