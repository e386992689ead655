import { EventBus, EventBusModule, EventPublisher, OnEvent, type EventBusModuleOptions } from '../../lib/index.js';
import { trackStorage } from '../harness.js';
import { bootNest, bootstrapProviders, decorateMethod, listenerProviders } from './nest-helpers.js';
import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';

/**
 * nestjs-event-bus: a real Nest application context, `@OnEvent` providers, the injected EventPublisher.
 * Its default configuration: with @opentelemetry/api installed (a devDependency here) and no tracer
 * provider registered, as in an application that has the API but no SDK.
 */
export const thisLibrary: System = eventBusSystem('event-bus', 'nestjs-event-bus', {});

/** The same with `telemetry: false`: what the default costs over no telemetry at all is the ratio of the two. */
export const thisLibraryTelemetryOff: System = eventBusSystem('event-bus-telemetry-off', 'nestjs-event-bus (telemetry: false)', { telemetry: false });

function eventBusSystem(id: string, label: string, extra: EventBusModuleOptions): System {
  const options: EventBusModuleOptions = { logger: false, ...extra };
  return {
    id,
    label,
    nest: true,
    patterns: true,
    waitNote: 'EventPublisher.publishAndWait',
    subscribeNote: 'EventBus.on(name, fn)',

    async create(spec: ListenerSpec): Promise<SystemInstance> {
      const providers = listenerProviders(spec, (event) => OnEvent(event));
      const app = await bootNest([EventBusModule.forRoot(options)], providers);
      const publisher = app.get(EventPublisher);
      const bus = app.get(EventBus);
      trackContext(bus);
      const names = spec.names;
      const len = names.length;
      return {
        publishMany(count, payload) {
          if (len === 1) {
            const name = names[0];
            for (let i = 0; i < count; i++) publisher.publish(name, payload);
          } else {
            for (let i = 0; i < count; i++) publisher.publish(names[i % len], payload);
          }
        },
        publishOne(index, payload) {
          publisher.publish(names[index], payload);
        },
        publishAndWait(index, payload) {
          return publisher.publishAndWait(names[index], payload);
        },
        async close() {
          await bus.drain();
          await app.close();
        },
      };
    },

    async subscriptionHost(): Promise<SubscriptionHost> {
      const app = await bootNest([EventBusModule.forRoot(options)], []);
      const bus = app.get(EventBus);
      trackContext(bus);
      return {
        subscribe(name, listener) {
          bus.on(name, listener);
        },
        close: () => app.close(),
      };
    },

    prepareBootstrap(count, withHandlers) {
      const providers = bootstrapProviders(count, withHandlers, (C, i) => decorateMethod(C, 'handle', OnEvent(`boot.e${i}`)));
      return async () => {
        const app = await bootNest([EventBusModule.forRoot(options)], providers);
        trackContext(app.get(EventBus));
        return () => app.close();
      };
    },
  };
}

/** The bus's AsyncLocalStorage (internal: EventBus.dispatcher.context), so the runner can switch it off between samples. */
function trackContext(bus: EventBus): void {
  const context = (bus as unknown as { dispatcher?: { context?: { disable?: () => void } } }).dispatcher?.context;
  if (typeof context?.disable === 'function') trackStorage(context as { disable(): void });
  else console.warn('bench: cannot reach the bus\'s AsyncLocalStorage; promise hooks stay on for every system after its first dispatch');
}
