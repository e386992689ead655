import { InvalidEventError } from '../errors.js';

/**
 * What can travel between processes: JSON data that arrives as it was sent. JSON.stringify silently
 * drops or changes some values (undefined, functions and symbols vanish, NaN becomes null, a Map
 * becomes {}), so code that works in-process would break once a transport is switched on. These
 * rules refuse such payloads at `publish`, naming the offending value's path.
 */
export interface PayloadProblem {
  /** Where the value is, e.g. `payload.items[2].price`. */
  path: string;
  /** What is wrong with it and what to do instead. */
  problem: string;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The first value in `payload` that cannot travel as JSON, or undefined when all of it can. */
export function findUntransportable(payload: unknown): PayloadProblem | undefined {
  // A missing payload is allowed (publish('x')); only values inside it must be present.
  if (payload === undefined) return undefined;
  return check(payload, 'payload', '', new Set<object>());
}

function check(value: unknown, path: string, key: string, ancestors: Set<object>): PayloadProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : { path, problem: `${String(value)} would arrive as null; send a finite number, or null` };
    case 'bigint':
      return { path, problem: 'a BigInt cannot be sent as JSON; send it as a string (e.g. amount.toString())' };
    case 'undefined':
      return { path, problem: 'undefined would be dropped (or become null in an array); omit the property or use null' };
    case 'function':
      return { path, problem: 'a function cannot be sent; send data only' };
    case 'symbol':
      return { path, problem: 'a symbol cannot be sent; use a string' };
    default:
      break;
  }
  if (value === null) return undefined;
  let object = value as object;
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // JSON.stringify sends what toJSON returns (a Date sends its ISO string): check that instead.
    const replaced: unknown = toJSON.call(object, key);
    if (replaced !== object) return check(replaced, path, key, ancestors);
  }
  if (ancestors.has(object)) return { path, problem: 'a circular reference cannot be sent as JSON; send a copy without the cycle' };
  if (object instanceof Map || object instanceof Set || object instanceof WeakMap || object instanceof WeakSet) {
    return { path, problem: `a ${object.constructor.name} would arrive as {}; send an array or a plain object` };
  }
  if (ArrayBuffer.isView(object) || object instanceof ArrayBuffer) {
    return { path, problem: 'binary data would not arrive as sent; encode it first (e.g. as a base64 string)' };
  }
  if (Object.getOwnPropertySymbols(object).length !== 0) {
    return { path, problem: 'symbol-keyed properties would be dropped; use string keys' };
  }
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) {
        const found = check(object[i], `${path}[${i}]`, String(i), ancestors);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    const record = object as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      const found = check(record[name], IDENTIFIER.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`, name, ancestors);
      if (found !== undefined) return found;
    }
    return undefined;
  } finally {
    ancestors.delete(object);
    object = undefined as unknown as object;
  }
}

/**
 * The payload's JSON ('' for no payload), or InvalidEventError naming the path of what cannot travel.
 * `transport` names the engine in the message, e.g. 'NATS'.
 */
export function serializePayload(payload: unknown, eventName: string, transport: string): string {
  const found = findUntransportable(payload);
  if (found !== undefined) {
    throw new InvalidEventError(
      `Cannot publish "${eventName}" through ${transport}: its payload cannot be serialized to JSON as it is: ${found.path} cannot travel (${found.problem}).`,
    );
  }
  return payload === undefined ? '' : JSON.stringify(payload);
}

/**
 * In-process, with the `serializablePayloads` option: the same rules as at a transport, so code that
 * works locally does not break once a transport is switched on.
 */
export function assertSerializablePayload(payload: unknown, eventName: string): void {
  const found = findUntransportable(payload);
  if (found === undefined) return;
  throw new InvalidEventError(
    `Cannot publish "${eventName}": ${found.path} could not travel through a transport (${found.problem}). ` +
      'EventBusModule option serializablePayloads applies the transports\' payload rules in-process too.',
  );
}
