import eventemitter2 from 'eventemitter2';
import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';
import { rawListener } from './raw-listener.js';

// eventemitter2 is CommonJS: its named exports are not visible to ESM imports.
const { EventEmitter2 } = eventemitter2;

/** Raw EventEmitter2 (what @nestjs/event-emitter wraps), no Nest. */
export const eventEmitter2: System = {
  id: 'eventemitter2',
  label: 'EventEmitter2',
  nest: false,
  patterns: true,
  waitNote: 'EventEmitter2.emitAsync',
  subscribeNote: 'EventEmitter2.on(name, fn)',

  async create(spec: ListenerSpec): Promise<SystemInstance> {
    const emitter = new EventEmitter2({ wildcard: spec.pattern !== undefined, maxListeners: 1000 });
    for (const name of spec.names) for (let k = 0; k < spec.perName; k++) emitter.on(name, rawListener(spec));
    if (spec.pattern !== undefined) emitter.on(spec.pattern, rawListener(spec));
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
      async close() {
        emitter.removeAllListeners();
      },
    };
  },

  async subscriptionHost(): Promise<SubscriptionHost> {
    const emitter = new EventEmitter2({ maxListeners: 1000 });
    return {
      subscribe: (name, listener) => void emitter.on(name, listener),
      close: async () => void emitter.removeAllListeners(),
    };
  },
};
