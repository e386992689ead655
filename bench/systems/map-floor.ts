import type { ListenerSpec, SubscriptionHost, System, SystemInstance } from './types.js';
import { rawListener } from './raw-listener.js';

type Listener = (payload: unknown) => unknown;

/** The floor: a bare Map<name, fn[]> and a loop calling the functions. No patterns, no isolation. */
export const mapFloor: System = {
  id: 'map-floor',
  label: 'Map + call (floor)',
  nest: false,
  patterns: false,
  waitNote: 'Promise.all(fns.map(call))',
  subscribeNote: 'map.get(name).push(fn)',

  async create(spec: ListenerSpec): Promise<SystemInstance> {
    if (spec.pattern !== undefined) throw new Error('the Map floor has no wildcard subscriptions');
    const map = new Map<string, Listener[]>();
    for (const name of spec.names) {
      const list: Listener[] = [];
      for (let k = 0; k < spec.perName; k++) list.push(rawListener(spec));
      map.set(name, list);
    }
    const emit = (name: string, payload: unknown) => {
      const list = map.get(name);
      if (list !== undefined) for (let i = 0; i < list.length; i++) list[i](payload);
    };
    const names = spec.names;
    const len = names.length;
    return {
      publishMany(count, payload) {
        if (len === 1) {
          const name = names[0];
          for (let i = 0; i < count; i++) emit(name, payload);
        } else {
          for (let i = 0; i < count; i++) emit(names[i % len], payload);
        }
      },
      publishOne(index, payload) {
        emit(names[index], payload);
      },
      publishAndWait(index, payload) {
        return Promise.all(map.get(names[index])!.map((listener) => listener(payload)));
      },
      async close() {
        map.clear();
      },
    };
  },

  async subscriptionHost(): Promise<SubscriptionHost> {
    const map = new Map<string, Listener[]>();
    return {
      subscribe(name, listener) {
        const list = map.get(name);
        if (list === undefined) map.set(name, [listener]);
        else list.push(listener);
      },
      close: async () => map.clear(),
    };
  },
};
