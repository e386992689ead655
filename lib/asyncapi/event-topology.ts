import type { INestApplicationContext } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { ON_EVENT_METADATA, ON_EVENT_METHODS_METADATA } from '../constants.js';
import { MODULE_OPTIONS_TOKEN } from '../event-bus.module-definition.js';
import { EventBus } from '../event-bus.js';
import { eventNameOfClass, isPattern, type EventClass } from '../event-name.js';
import type { EventBusModuleOptions } from '../interfaces/event-bus-options.interface.js';
import type { HandlerOptions } from '../interfaces/handler-options.interface.js';
import type { OnEventMetadata } from '../on-event.decorator.js';
import { isDescribedTransport, type TransportDescription } from '../transport/transport-description.interface.js';

/** One subscription of one handler. */
export interface TopologySubscription {
  /** `'Class.method'`, or the listener's name for `EventBus.on()`. */
  handler: string;
  /** The event name or pattern subscribed to (for a class: the name it travels under). */
  event: string;
  kind: 'name' | 'pattern' | 'class';
  eventClass?: EventClass;
  options: HandlerOptions;
}

/** Who handles what in one application, as far as its code says. */
export interface EventTopology {
  subscriptions: TopologySubscription[];
  /** Concrete event names (not patterns), each with its class when one is known. */
  events: Map<string, EventClass | undefined>;
  /** Set when the bus has a transport that describes itself (servers, group, channels). */
  transport?: TransportDescription;
  /** The transport's name ('nats', ...), or undefined in-process. */
  transportName?: string;
}

interface Wrapper {
  instance: unknown;
  metatype: unknown;
  isAlias?: boolean;
}

/**
 * Reads the `@OnEvent` declarations of every provider and controller (the same ones the bus registered,
 * classes included), plus the string subscriptions of `EventBus.on()` listeners. Symbol events are left
 * out: they cannot leave the process or be named in a document.
 */
export function collectTopology(app: Pick<INestApplicationContext, 'get'>, extraEvents: readonly (string | EventClass)[] = []): EventTopology {
  const discovery = app.get(DiscoveryService, { strict: false });
  const scanner = new MetadataScanner();
  const bus = app.get(EventBus, { strict: false });
  const options = app.get<EventBusModuleOptions>(MODULE_OPTIONS_TOKEN, { strict: false });
  const subscriptions: TopologySubscription[] = [];
  const seen = new Set<string>();
  const add = (s: TopologySubscription) => {
    const key = `${s.handler}\u0000${s.kind}\u0000${s.event}`;
    if (seen.has(key)) return;
    seen.add(key);
    subscriptions.push(s);
  };
  const scannedPrototypes = new Set<object>();
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()] as unknown as Wrapper[]) {
    if (wrapper.isAlias) continue;
    const prototype = prototypeOf(wrapper);
    if (prototype === undefined || scannedPrototypes.has(prototype) || !Reflect.hasMetadata(ON_EVENT_METHODS_METADATA, prototype)) continue;
    scannedPrototypes.add(prototype);
    const className = (prototype.constructor as { name?: string }).name ?? 'Anonymous';
    for (const method of scanner.getAllMethodNames(prototype)) {
      const declarations: OnEventMetadata[] | undefined = Reflect.getMetadata(ON_EVENT_METADATA, prototype, method);
      for (const declaration of declarations ?? []) {
        for (const selector of declaration.events) {
          const handler = `${className}.${method}`;
          if (typeof selector === 'function') add({ handler, event: eventNameOfClass(selector), kind: 'class', eventClass: selector, options: declaration.options });
          else if (typeof selector === 'string') add({ handler, event: selector, kind: isPattern(selector) ? 'pattern' : 'name', options: declaration.options });
        }
      }
    }
  }
  // Listeners added with on(): handlers() knows them by name (classes only by class name, so those are skipped).
  const declared = new Set(subscriptions.map((s) => s.handler));
  for (const registration of bus.handlers()) {
    if (declared.has(registration.handler) || typeof registration.event !== 'string') continue;
    add({ handler: registration.handler, event: registration.event, kind: isPattern(registration.event) ? 'pattern' : 'name', options: registration.options });
  }
  const events = new Map<string, EventClass | undefined>();
  for (const s of subscriptions) {
    if (s.kind === 'pattern') continue;
    if (s.eventClass !== undefined || !events.has(s.event)) events.set(s.event, s.eventClass ?? events.get(s.event));
  }
  for (const extra of extraEvents) {
    if (typeof extra === 'function') events.set(eventNameOfClass(extra), extra);
    else if (!events.has(extra)) events.set(extra, undefined);
  }
  const transport = options.transport;
  return {
    subscriptions,
    events,
    ...(isDescribedTransport(transport) ? { transport: transport.describe() } : {}),
    ...(transport === undefined ? {} : { transportName: transport.name }),
  };
}

function prototypeOf(wrapper: Wrapper): object | undefined {
  const instance = wrapper.instance;
  if (instance !== null && typeof instance === 'object') {
    const prototype = Object.getPrototypeOf(instance);
    if (prototype !== null && prototype !== Object.prototype) return prototype;
  }
  if (typeof wrapper.metatype === 'function') return (wrapper.metatype as { prototype?: object }).prototype;
  return undefined;
}
