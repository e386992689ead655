import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, ModulesContainer } from '@nestjs/core';
import { ON_EVENT_METADATA, ON_EVENT_METHODS_METADATA } from './constants.js';
import { EventBus } from './event-bus.js';
import type { HandlerInvoker, InstanceResolver } from './handler.js';
import { warnAboutEventEmitterListeners } from './migration/event-emitter-listeners.js';
import type { OnEventMetadata } from './on-event.decorator.js';
import { scopedInstanceResolver } from './scoped-instance-resolver.js';

/** The shape of what DiscoveryService returns, as far as this explorer reads it. */
interface DiscoveredWrapper {
  token: unknown;
  name: unknown;
  instance: unknown;
  metatype: unknown;
  inject?: unknown;
  isAlias?: boolean;
  isTransient?: boolean;
  isDependencyTreeStatic(): boolean;
}

/** Finds `@OnEvent` methods on every provider and controller and registers them with the bus. */
@Injectable()
export class HandlerExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly moduleRef: ModuleRef,
    private readonly bus: EventBus,
    private readonly modules: ModulesContainer,
  ) {
    // Nest initialises global modules first, in import order: a user's @Global() module whose
    // onModuleInit awaits publishAndWait would wait for handlers not registered yet (a deadlock). Every
    // instance exists before the first lifecycle hook, so discovery can always run first.
    for (const moduleRef of modules.values()) {
      if (moduleRef.providers.has(HandlerExplorer)) moduleRef.distance = Infinity;
    }
  }

  onModuleInit(): void {
    // Several imports of the module share one bus (see event-bus.provider.ts): discover once.
    if (this.bus.hasRegisteredHandlers) return;
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()] as unknown as DiscoveredWrapper[];
    const seenInstances = new Set<object>();
    for (const wrapper of wrappers) this.explore(wrapper, seenInstances);
    this.bus.markHandlersRegistered();
    warnAboutEventEmitterListeners(wrappers, this.modules, this.scanner, this.bus.logger);
  }

  private explore(wrapper: DiscoveredWrapper, seenInstances: Set<object>): void {
    // `useExisting` aliases point at a provider that is registered on its own.
    if (wrapper.isAlias) return;
    // Transient providers get a fresh instance per event too (one per event and provider).
    const isStatic = wrapper.isDependencyTreeStatic() && !wrapper.isTransient;
    const instance = isStatic ? wrapper.instance : undefined;
    const prototype = isStatic ? safePrototypeOf(instance) : classPrototypeOf(wrapper);
    if (prototype === undefined || !Reflect.hasMetadata(ON_EVENT_METHODS_METADATA, prototype)) return;
    if (instance !== undefined) {
      // The same instance exported under two tokens is registered once.
      if (seenInstances.has(instance as object)) return;
      seenInstances.add(instance as object);
    }
    const className = (prototype.constructor as { name?: string } | undefined)?.name || String(wrapper.name);
    let resolver: InstanceResolver | undefined;
    if (!isStatic) resolver = scopedInstanceResolver(this.moduleRef, wrapper.token as string);

    for (const methodName of this.scanner.getAllMethodNames(prototype)) {
      const declarations: OnEventMetadata[] | undefined = Reflect.getMetadata(ON_EVENT_METADATA, prototype, methodName);
      if (declarations === undefined) continue;
      // Looked up at call time, so spies and later wrappers on the instance are honoured.
      // `extra`: what a HandlerMiddleware passed to next() (the inbox's transaction), after the envelope.
      const invoke: HandlerInvoker = (target, payload, envelope, ...extra) =>
        extra.length === 0 ? target[methodName](payload, envelope) : target[methodName](payload, envelope, ...extra);
      const target = isStatic ? { instance, methodName } : { prototype, methodName };
      for (const declaration of declarations) {
        this.bus.registerHandler(
          declaration.events,
          `${className}.${methodName}`,
          target,
          invoke,
          instance as object | undefined,
          resolver,
          declaration.options,
        );
      }
    }
  }
}

/** The prototype of an instance, tolerating null-prototype objects, proxies and primitives. */
function safePrototypeOf(instance: unknown): object | undefined {
  if (instance === null || (typeof instance !== 'object' && typeof instance !== 'function')) return undefined;
  try {
    const prototype = Object.getPrototypeOf(instance);
    return prototype === null || prototype === Object.prototype ? undefined : prototype;
  } catch {
    return undefined;
  }
}

function classPrototypeOf(wrapper: DiscoveredWrapper): object | undefined {
  // Factory providers have no class to scan until instantiated.
  if (typeof wrapper.metatype !== 'function' || wrapper.inject) return undefined;
  return (wrapper.metatype as { prototype?: object }).prototype;
}
