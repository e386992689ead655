import type { LoggerService } from '@nestjs/common';
import type { MetadataScanner, ModulesContainer } from '@nestjs/core';

/**
 * The reflect-metadata key `@OnEvent` of `@nestjs/event-emitter` sets on the decorated method itself
 * (its `EVENT_LISTENER_METADATA` constant, a plain string in 12.x). Read here by value: that package
 * is not a dependency of this library.
 */
export const EVENT_EMITTER_LISTENER_METADATA = 'EVENT_LISTENER_METADATA';

/** What this check reads of a DiscoveryService wrapper. */
export interface DiscoveredClass {
  name: unknown;
  instance: unknown;
  metatype: unknown;
  inject?: unknown;
  isAlias?: boolean;
}

/**
 * Start-up check for half-finished migrations: a method decorated with `@nestjs/event-emitter`'s
 * `@OnEvent` while that package's `EventEmitterModule` is not imported is silently never called
 * (nothing reads its metadata). Warns once per `Class.method`, naming the import to change. Silent
 * when `EventEmitterModule` is imported: both buses used side by side is a valid choice.
 */
export function warnAboutEventEmitterListeners(
  wrappers: readonly DiscoveredClass[],
  modules: ModulesContainer,
  scanner: MetadataScanner,
  logger: LoggerService,
): void {
  if (hasEventEmitterModule(modules)) return;
  for (const where of eventEmitterListeners(wrappers, scanner)) {
    logger.warn(
      `${where} is decorated with @OnEvent from @nestjs/event-emitter, but EventEmitterModule is not imported, ` +
        `so it is never called. Change its import to: import { OnEvent } from 'nestjs-event-bus';`,
    );
  }
}

/** `Class.method` of every method carrying event-emitter's listener metadata, each once. */
export function eventEmitterListeners(wrappers: readonly DiscoveredClass[], scanner: MetadataScanner): string[] {
  const found = new Set<string>();
  const seenPrototypes = new Set<object>();
  for (const wrapper of wrappers) {
    if (wrapper.isAlias) continue;
    const prototype = prototypeOf(wrapper);
    if (prototype === undefined || seenPrototypes.has(prototype)) continue;
    seenPrototypes.add(prototype);
    const className = (prototype.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
    for (const methodName of scanner.getAllMethodNames(prototype)) {
      const method = methodOf(prototype, methodName);
      if (method !== undefined && Reflect.hasMetadata(EVENT_EMITTER_LISTENER_METADATA, method)) {
        found.add(`${className}.${methodName}`);
      }
    }
  }
  return [...found];
}

/** Whether the application imports `EventEmitterModule` (found by its class name, as it is not imported here). */
export function hasEventEmitterModule(modules: ModulesContainer): boolean {
  for (const moduleRef of modules.values()) {
    if ((moduleRef.metatype as { name?: string } | undefined)?.name === 'EventEmitterModule') return true;
  }
  return false;
}

function prototypeOf(wrapper: DiscoveredClass): object | undefined {
  // Request-scoped and transient providers have no usable instance at start-up: read their class.
  if (typeof wrapper.metatype === 'function' && !wrapper.inject) {
    const prototype = (wrapper.metatype as { prototype?: unknown }).prototype;
    if (typeof prototype === 'object' && prototype !== null) return prototype;
  }
  // Factory providers: the prototype of what the factory built, if it is a class instance.
  const instance = wrapper.instance;
  if (instance === null || typeof instance !== 'object') return undefined;
  try {
    const prototype = Object.getPrototypeOf(instance);
    return prototype === null || prototype === Object.prototype ? undefined : prototype;
  } catch {
    return undefined;
  }
}

/** The method without running getters (a getter on a provider's prototype may throw out of context). */
function methodOf(prototype: object, name: string): object | undefined {
  for (let current: object | null = prototype; current !== null && current !== Object.prototype; current = Object.getPrototypeOf(current)) {
    const descriptor = Object.getOwnPropertyDescriptor(current, name);
    if (descriptor !== undefined) return typeof descriptor.value === 'function' ? descriptor.value : undefined;
  }
  return undefined;
}
