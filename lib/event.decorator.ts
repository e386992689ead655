import { EVENT_NAME_METADATA } from './constants.js';
import { InvalidEventError } from './errors.js';
import { isPattern, type EventClass } from './event-name.js';

/**
 * Gives an event class a stable name, used in envelopes and across processes (where class identity
 * does not exist). Without it, the class name is used. Subclasses do not inherit it.
 */
export function Event(name: string): ClassDecorator {
  if (typeof name !== 'string' || name.trim().length === 0 || isPattern(name)) {
    throw new InvalidEventError(`@Event() needs a concrete event name such as 'order.placed', got ${String(name)}.`);
  }
  return (target) => {
    Reflect.defineMetadata(EVENT_NAME_METADATA, name, target as unknown as EventClass);
  };
}
