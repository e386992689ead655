import type { ListenerSpec } from './types.js';

/** A fresh listener function for the non-Nest systems, the same body as the Nest providers' `handle`. */
export function rawListener(spec: ListenerSpec): (payload: unknown) => unknown {
  const body = spec.onEvent;
  return spec.kind === 'sync'
    ? (payload: unknown) => {
        body(payload);
      }
    : async (payload: unknown) => {
        await undefined;
        body(payload);
      };
}
