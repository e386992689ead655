import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BUS_INSTRUMENTATION_FACTORY, EVENT_ENVELOPE } from './constants.js';
import { DeadLetters } from './dead-letters/dead-letters.js';
import { deadLettersProvider } from './dead-letters/dead-letters.provider.js';
import { EventBus } from './event-bus.js';
import { eventBusProvider } from './event-bus.provider.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableEventBusModule, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './event-bus.module-definition.js';
import { eventEnvelopeProvider } from './event-envelope.provider.js';
import { EventPublisher } from './event-publisher.js';
import { HandlerExplorer } from './handler-explorer.js';
import { loadInstrumentation } from './instrumentation/load-instrumentation.js';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';
import { EventBusShutdownModule, ShutdownCoordinator } from './shutdown-coordinator.js';
import { EventBusModuleNotConfiguredError } from './errors.js';

/**
 * `EventBusModule.forRoot()` (or `forRootAsync()`): registers every `@OnEvent` handler of the
 * application and provides `EventBus` and `EventPublisher`. Global unless `{ global: false }`.
 */
@Module({
  imports: [DiscoveryModule, EventBusShutdownModule],
  providers: [
    // Only reached by a bare `imports: [EventBusModule]`: forRoot()/forRootAsync() register their own
    // options provider under the same token, which replaces this one. Without it Nest would report a
    // missing "EVENT_BUS_MODULE_OPTIONS" and never say what to change.
    {
      provide: MODULE_OPTIONS_TOKEN,
      useFactory: () => {
        throw new EventBusModuleNotConfiguredError();
      },
    },
    eventBusProvider,
    EventPublisher,
    HandlerExplorer,
    eventEnvelopeProvider,
    deadLettersProvider,
    // Async, so the optional telemetry entry is imported (or found missing) before the bus is built.
    {
      provide: BUS_INSTRUMENTATION_FACTORY,
      useFactory: (options: EventBusModuleOptions) => loadInstrumentation(options.telemetry),
      inject: [MODULE_OPTIONS_TOKEN],
    },
  ],
  exports: [EventBus, EventPublisher, EVENT_ENVELOPE, DeadLetters],
})
export class EventBusModule extends ConfigurableEventBusModule {
  constructor(bus: EventBus, coordinator: ShutdownCoordinator) {
    super();
    coordinator.register(() => bus.shutdown());
  }

  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
