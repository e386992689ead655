import type { Type } from '@nestjs/common';
import { CqrsModule, EventBus, EventsHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { bootNest, bootstrapProviders, listenerClass } from './nest-helpers.js';
import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';

interface BenchEvent {
  payload: unknown;
}
type EventClass = new (payload: unknown) => BenchEvent;

/** CQRS events are classes: one class per event name. */
function eventClass(name: string): EventClass {
  const C = class {
    constructor(readonly payload: unknown) {}
  };
  Object.defineProperty(C, 'name', { value: name.replace(/[^A-Za-z0-9_$]/g, '_') });
  return C;
}

const unwrap = (event: BenchEvent) => event.payload;

/** @nestjs/cqrs: a real Nest application context, `@EventsHandler` providers, `EventBus.publish`. */
export const nestCqrs: System = {
  id: 'nest-cqrs',
  label: '@nestjs/cqrs',
  nest: true,
  patterns: false,
  floodLimit: {
    events: 20_000,
    reason: 'capped: each in-flight event holds an inner subscription in every handler\'s mergeMap, so a backlog costs O(n²) (200,000 events took 49 s)',
  },
  waitNote: 'n/a: EventBus.publish does not report handler completion',
  subscribeNote: 'EventBus.bind(handler, eventId), what @EventsHandler registration does',

  async create(spec: ListenerSpec): Promise<SystemInstance> {
    if (spec.pattern !== undefined) throw new Error('@nestjs/cqrs has no wildcard subscriptions');
    const classes = spec.names.map(eventClass);
    const providers: Type[] = [];
    let n = 0;
    for (const E of classes) {
      for (let k = 0; k < spec.perName; k++) {
        const C = listenerClass(`Listener${n++}`, spec.kind, spec.onEvent, unwrap);
        EventsHandler(E)(C);
        providers.push(C);
      }
    }
    const app = await bootNest([CqrsModule.forRoot()], providers);
    const bus = app.get(EventBus);
    const len = classes.length;
    // publishMany reuses one instance per class: the payload is constant, as for every other system.
    const prebuilt = new Map<unknown, BenchEvent[]>();
    const instances = (payload: unknown) => {
      let list = prebuilt.get(payload);
      if (list === undefined) {
        list = classes.map((E) => new E(payload));
        prebuilt.set(payload, list);
      }
      return list;
    };
    return {
      publishMany(count, payload) {
        const events = instances(payload);
        if (len === 1) {
          const event = events[0];
          for (let i = 0; i < count; i++) bus.publish(event);
        } else {
          for (let i = 0; i < count; i++) bus.publish(events[i % len]);
        }
      },
      publishOne(index, payload) {
        bus.publish(new classes[index](payload));
      },
      close: () => app.close(),
    };
  },

  async subscriptionHost(): Promise<SubscriptionHost> {
    const app = await bootNest([CqrsModule.forRoot()], []);
    const bus = app.get(EventBus);
    return {
      subscribe(_name, listener) {
        // What EventsHandler registration does per handler: one filtered subscription on the event subject.
        const wrapper = { isDependencyTreeStatic: () => true, instance: { handle: listener } };
        bus.bind(wrapper as never, randomUUID());
      },
      close: () => app.close(),
    };
  },

  prepareBootstrap(count, withHandlers) {
    const providers = bootstrapProviders(count, withHandlers, (C, i) => EventsHandler(eventClass(`BootEvent${i}`))(C));
    return async () => {
      const app = await bootNest([CqrsModule.forRoot()], providers);
      return () => app.close();
    };
  },
};
