import { PoisonMessageError } from './poison-message.error.js';

/**
 * Parses JSON received from a broker. A `__proto__` key is refused, so a payload cannot change a
 * prototype when it is revived into an event class. Throws PoisonMessageError('malformed').
 */
export function parseWireJson(text: string, what: string): unknown {
  try {
    // The reviver is slower, so only pay for it when the key can be there at all.
    return text.includes('__proto__') ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text);
  } catch (error) {
    if (error instanceof PoisonMessageError) throw error;
    throw new PoisonMessageError('malformed', `${what} is not valid JSON (${(error as Error).message})`);
  }
}

function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new PoisonMessageError('malformed', 'a "__proto__" key is not allowed (prototype pollution attempt)');
  return value;
}

/** Envelope headers received as JSON: an object of strings, or PoisonMessageError. */
export function parseWireHeaders(text: string, what: string): Record<string, string> {
  const parsed = parseWireJson(text, what);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new PoisonMessageError('malformed', `${what} must be a JSON object of strings`);
  }
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new PoisonMessageError('malformed', `${what}: "${key}" is not a string`);
    result[key] = value;
  }
  return result;
}
