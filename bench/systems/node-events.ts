import { EventEmitter } from 'node:events';
import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';
import { rawListener } from './raw-listener.js';

/** Node's own EventEmitter, no Nest. */
export const nodeEvents: System = {
  id: 'node-events',
  label: 'node:events',
  nest: false,
  patterns: false,
  waitNote: 'emulated: Promise.all(emitter.listeners(name).map(call))',
  subscribeNote: 'EventEmitter.on(name, fn)',

  async create(spec: ListenerSpec): Promise<SystemInstance> {
    if (spec.pattern !== undefined) throw new Error('node:events has no wildcard subscriptions');
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    for (const name of spec.names) for (let k = 0; k < spec.perName; k++) emitter.on(name, rawListener(spec));
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
        const listeners = emitter.listeners(names[index]) as ((p: unknown) => unknown)[];
        return Promise.all(listeners.map((listener) => listener(payload)));
      },
      async close() {
        emitter.removeAllListeners();
      },
    };
  },

  async subscriptionHost(): Promise<SubscriptionHost> {
    const emitter = new EventEmitter();
    emitter.setMaxListeners(0);
    return {
      subscribe: (name, listener) => void emitter.on(name, listener),
      close: async () => void emitter.removeAllListeners(),
    };
  },
};
