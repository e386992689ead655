import { ON_EVENT_METADATA, ON_EVENT_METHODS_METADATA } from './constants.js';
import type { EventHandlerMethod, EventKey } from './event-map.js';
import { selectorProblem, type EventClass, type EventSelector } from './event-name.js';
import { InvalidHandlerError } from './errors.js';
import type { HandlerOptions } from './interfaces/handler-options.interface.js';
import { withoutEventEmitterOptions, type EventEmitterHandlerOptions } from './migration/event-emitter-handler-options.js';
import { handlerOptionsProblems } from './options/handler-options-rules.js';

/** What one `@OnEvent` decorator records. */
export interface OnEventMetadata {
  events: readonly EventSelector[];
  options: HandlerOptions;
}

/**
 * Marks a method as a handler of an event name, a pattern (`order.*`, `order.**`), a symbol, an event
 * class, or a list of them (any one triggers it). Stacked decorators add up. The registration is kept
 * on the class, keyed by method name, so a decorator that later wraps the method does not lose it.
 * `@nestjs/event-emitter`'s options are accepted where they still hold (see EventEmitterHandlerOptions).
 */
export function OnEvent(
  event: EventSelector | readonly EventSelector[],
  options: HandlerOptions & EventEmitterHandlerOptions = {},
): MethodDecorator {
  return (target, propertyKey, descriptor) => {
    const className = (typeof target === 'function' ? target.name : target.constructor?.name) || 'AnonymousClass';
    const where = `${className}.${String(propertyKey)}`;
    if (typeof target === 'function') {
      throw new InvalidHandlerError(`@OnEvent on ${where}: static methods cannot be handlers; make it an instance method.`);
    }
    if (descriptor === undefined || typeof descriptor.value !== 'function') {
      throw new InvalidHandlerError(`@OnEvent on ${where}: only methods can be handlers (not properties, getters or setters).`);
    }
    const events = Array.isArray(event) ? [...(event as readonly EventSelector[])] : [event as EventSelector];
    if (events.length === 0) throw new InvalidHandlerError(`@OnEvent on ${where}: the list of events is empty.`);
    for (const selector of events) {
      const problem = selectorProblem(selector);
      if (problem !== undefined) throw new InvalidHandlerError(`@OnEvent on ${where}: ${problem}.`);
    }
    const migrated = withoutEventEmitterOptions(options);
    if (migrated.problems.length !== 0) throw new InvalidHandlerError(`@OnEvent on ${where}: ${migrated.problems.join('; ')}.`);
    validateOptions(migrated.options, where);
    const existing: OnEventMetadata[] = Reflect.getOwnMetadata(ON_EVENT_METADATA, target, propertyKey) ?? [];
    Reflect.defineMetadata(ON_EVENT_METADATA, [...existing, { events, options: migrated.options }], target, propertyKey);
    const methods: (string | symbol)[] = Reflect.getOwnMetadata(ON_EVENT_METHODS_METADATA, target) ?? [];
    if (!methods.includes(propertyKey)) Reflect.defineMetadata(ON_EVENT_METHODS_METADATA, [...methods, propertyKey], target);
  };
}

function validateOptions(options: HandlerOptions, where: string): void {
  const problems = handlerOptionsProblems(options);
  if (problems.length !== 0) throw new InvalidHandlerError(`@OnEvent on ${where}: ${problems.join('; ')}.`);
}

/**
 * A typed `@OnEvent` for an event map: a handler whose first parameter does not accept the event's
 * payload is a compile error.
 *
 *   export const OnAppEvent = createOnEvent<AppEvents>();
 *   @OnAppEvent('new_order') handle(order: NewOrder) {}
 */
export function createOnEvent<TEvents extends object>() {
  return function OnTypedEvent<K extends EventKey<TEvents>>(event: K | readonly K[], options?: HandlerOptions<TEvents[K]>) {
    return OnEvent(event, options as HandlerOptions) as <M extends EventHandlerMethod<TEvents[K]>>(
      target: object,
      propertyKey: string | symbol,
      descriptor: TypedPropertyDescriptor<M>,
    ) => void;
  };
}

/** A typed `@OnEvent(SomeClass)`: the handler must accept instances of that class. */
export function OnEventClass<E extends EventClass>(eventClass: E | readonly E[], options?: HandlerOptions<InstanceType<E>>) {
  return OnEvent(eventClass as EventSelector | readonly EventSelector[], options as HandlerOptions) as <M extends EventHandlerMethod<InstanceType<E>>>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ) => void;
}
