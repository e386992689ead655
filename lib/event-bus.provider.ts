import type { FactoryProvider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { BUS_INSTRUMENTATION_FACTORY } from './constants.js';
import { DuplicateEventBusModuleError } from './errors.js';
import { EventBus } from './event-bus.js';
import { MODULE_OPTIONS_TOKEN } from './event-bus.module-definition.js';
import type { BusInstrumentationFactory } from './instrumentation/bus-instrumentation.js';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';

/**
 * One bus per application, however many modules import EventBusModule: the first import creates it,
 * the others get the same instance (with `{ global: false }` each importing module sees it). Keyed by
 * the application's ModulesContainer, so separate applications in one process stay independent.
 * Imports that configure the bus differently fail start-up: configure it once, in the root module.
 */
const busesByApplication = new WeakMap<ModulesContainer, { bus: EventBus; options: EventBusModuleOptions }>();

export const eventBusProvider: FactoryProvider<EventBus> = {
  provide: EventBus,
  inject: [MODULE_OPTIONS_TOKEN, ModulesContainer, { token: BUS_INSTRUMENTATION_FACTORY, optional: true }],
  useFactory: (options: EventBusModuleOptions, modules: ModulesContainer, instrumentation?: BusInstrumentationFactory) => {
    const existing = busesByApplication.get(modules);
    if (existing === undefined) {
      const bus = new EventBus(options, instrumentation);
      busesByApplication.set(modules, { bus, options });
      return bus;
    }
    if (!sameOptions(existing.options, options)) {
      throw new DuplicateEventBusModuleError(
        'EventBusModule is imported more than once with different options. One application has one bus: import ' +
          'EventBusModule.forRoot(options) (or forRootAsync) once, in the root module; it is global by default, so ' +
          'feature modules need not import it (with { global: false }, import EventBusModule.forRoot() with the same options, or none, where needed).',
      );
    }
    return existing.bus;
  },
};

/** Same configuration: equal plain data, and the very same objects for instances (transport, logger). */
function sameOptions(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (!sameOptions(a[key], b[key])) return false;
  return true;
}

function isPlain(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null || Array.isArray(value);
}
