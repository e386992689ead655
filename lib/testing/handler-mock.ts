import type { Type } from '@nestjs/common';
import { ON_EVENT_METHODS_METADATA } from '../constants.js';
import { InvalidHandlerError } from '../errors.js';

/** The methods of T, by name. */
type MethodKeys<T> = { [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never }[keyof T];

/** A stand-in method that records its calls: used for the handlers a test did not replace. */
export interface RecordingHandler {
  (...args: unknown[]): undefined;
  /** The arguments of every call, in order: `[payload, envelope]`. */
  readonly calls: unknown[][];
}

/**
 * A stand-in for a provider with `@OnEvent` methods that keeps their registration, for
 * `Test.createTestingModule(...).overrideProvider(OrderListener).useValue(mockHandlers(OrderListener, {...}))`.
 *
 * Registration comes from the class's decorators, found through the instance's prototype: a plain
 * object such as `useValue({ handleNewOrder: jest.fn() })` has none, so its handlers would silently
 * never be called. This object inherits the class's prototype (its constructor is not run) and
 * replaces every `@OnEvent` method: by the implementation given, else by a RecordingHandler that
 * does nothing. Other methods are inherited unchanged and run without constructor-initialised state.
 */
export function mockHandlers<T extends object>(
  type: Type<T>,
  implementations: { [K in MethodKeys<T>]?: (...args: any[]) => unknown } = {},
): T {
  const handlerMethods = handlerMethodsOf(type);
  if (handlerMethods.length === 0) {
    throw new InvalidHandlerError(
      `mockHandlers(${type.name}): ${type.name} has no @OnEvent method, so there is no registration to keep. ` +
        'Override it with useValue() directly, or pass the class that declares the handlers.',
    );
  }
  for (const key of Reflect.ownKeys(implementations)) {
    if (!handlerMethods.includes(key)) {
      throw new InvalidHandlerError(
        `mockHandlers(${type.name}): ${String(key)} is not an @OnEvent method of ${type.name}, so the bus would never call it. ` +
          `Its handlers are: ${handlerMethods.map(String).join(', ')}.`,
      );
    }
  }
  const mock = Object.create(type.prototype as object) as Record<string | symbol, unknown>;
  for (const method of handlerMethods) {
    const implementation = (implementations as Record<string | symbol, unknown>)[method];
    if (implementation !== undefined && typeof implementation !== 'function') {
      throw new InvalidHandlerError(`mockHandlers(${type.name}): the replacement of ${String(method)} must be a function.`);
    }
    mock[method] = implementation ?? recordingHandler();
  }
  return mock as T;
}

/** Every `@OnEvent` method of a class, its base classes' included. */
function handlerMethodsOf(type: Type<unknown>): (string | symbol)[] {
  const methods = new Set<string | symbol>();
  for (let proto: object | null = type.prototype as object; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    const own: (string | symbol)[] | undefined = Reflect.getOwnMetadata(ON_EVENT_METHODS_METADATA, proto);
    for (const method of own ?? []) methods.add(method);
  }
  return [...methods];
}

function recordingHandler(): RecordingHandler {
  const calls: unknown[][] = [];
  const handler = (...args: unknown[]): undefined => {
    calls.push(args);
    return undefined;
  };
  return Object.assign(handler, { calls });
}
