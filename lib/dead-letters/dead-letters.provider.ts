import type { FactoryProvider } from '@nestjs/common';
import { MODULE_OPTIONS_TOKEN } from '../event-bus.module-definition.js';
import { EventBus } from '../event-bus.js';
import type { EventBusModuleOptions } from '../interfaces/event-bus-options.interface.js';
import { DeadLetters } from './dead-letters.js';

/**
 * One DeadLetters per bus, however many modules import EventBusModule (like the bus itself): two would
 * each keep their own copy of the in-memory dead letters, and a dead letter redriven through one could
 * be redriven again through the other.
 */
const byBus = new WeakMap<EventBus, DeadLetters>();

export const deadLettersProvider: FactoryProvider<DeadLetters> = {
  provide: DeadLetters,
  inject: [EventBus, MODULE_OPTIONS_TOKEN],
  useFactory: (bus: EventBus, options: EventBusModuleOptions) => {
    let deadLetters = byBus.get(bus);
    if (deadLetters === undefined) {
      deadLetters = new DeadLetters(bus, options);
      byBus.set(bus, deadLetters);
    }
    return deadLetters;
  },
};
