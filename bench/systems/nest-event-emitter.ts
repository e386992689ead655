import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { bootNest, bootstrapProviders, decorateMethod, listenerProviders } from './nest-helpers.js';
import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';

/** @nestjs/event-emitter: a real Nest application context, `@OnEvent` providers, the injected EventEmitter2. */
export const nestEventEmitter: System = {
  id: 'nest-event-emitter',
  label: '@nestjs/event-emitter',
  nest: true,
  patterns: true,
  waitNote: 'EventEmitter2.emitAsync',
  subscribeNote: 'injected EventEmitter2.on(name, fn)',

  async create(spec: ListenerSpec): Promise<SystemInstance> {
    const providers = listenerProviders(spec, (event) => OnEvent(event));
    // Wildcards cost EventEmitter2 on every emit, so they are only switched on where a pattern is used.
    const app = await bootNest(
      [EventEmitterModule.forRoot({ wildcard: spec.pattern !== undefined, maxListeners: 1000 })],
      providers,
    );
    const emitter = app.get(EventEmitter2);
    const names = spec.names;
    const len = names.length;
    return {
      publishMany(count, payload) {
        if (len === 1) {
          const name = names[0];
          for (let i = 0; i < count; i++) emitter.emit(name, payload);
        } else {
          for (let i = 0; i < count; i++) emitter.emit(names[i % len], payload);
        }
      },
      publishOne(index, payload) {
        emitter.emit(names[index], payload);
      },
      publishAndWait(index, payload) {
        return emitter.emitAsync(names[index], payload);
      },
      close: () => app.close(),
    };
  },

  async subscriptionHost(): Promise<SubscriptionHost> {
    const app = await bootNest([EventEmitterModule.forRoot({ maxListeners: 1000 })], []);
    const emitter = app.get(EventEmitter2);
    return {
      subscribe(name, listener) {
        emitter.on(name, listener);
      },
      close: () => app.close(),
    };
  },

  prepareBootstrap(count, withHandlers) {
    const providers = bootstrapProviders(count, withHandlers, (C, i) => decorateMethod(C, 'handle', OnEvent(`boot.e${i}`)));
    return async () => {
      const app = await bootNest([EventEmitterModule.forRoot({ maxListeners: 1000 })], providers);
      return () => app.close();
    };
  },
};
