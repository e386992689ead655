import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import { InvalidEventError } from '../errors.js';
import type { MessageSigner } from './message-signer.js';
import { serializePayload } from './payload-rules.js';
import { PoisonMessageError } from './poison-message.error.js';
import type { WireEnvelope } from './wire-envelope.js';
import { parseWireHeaders, parseWireJson } from './wire-json.js';

/** Field names of an event carried as string fields (a Redis stream entry, message properties). */
export const ENVELOPE_FIELD = {
  id: 'id',
  name: 'name',
  occurredAt: 'at',
  /** Absent when it is the event's own id (the usual case). */
  correlationId: 'corr',
  causationId: 'cause',
  /** The envelope headers as a JSON object of strings. */
  headers: 'hdrs',
  /** The payload's JSON; absent for an event without payload. */
  payload: 'data',
  /** HMAC-SHA256 (base64) over the other fields and the scope, when a signing key is set. */
  signature: 'sig',
} as const;

const KNOWN = new Set<string>(Object.values(ENVELOPE_FIELD));
const MAX_ID_LENGTH = 256;
const MAX_NAME_LENGTH = 1024;
/** Every field but the payload together: generous for ids, names and headers, bounded for a hostile producer. */
const MAX_META_CHARS = 64 * 1024;

/**
 * Turns envelopes into flat `[field, value, ...]` string lists and back, for engines whose messages are
 * string fields. Decoding trusts nothing: unknown or repeated fields, oversize values, a missing or wrong
 * signature (when a key is set: checked before anything is parsed) are PoisonMessageErrors. The signature
 * covers `scope` (e.g. the stream key), so a signed entry copied into another stream sharing the key is forged there.
 */
export class FieldEnvelopeCodec {
  constructor(
    private readonly scope: string,
    /** The engine's name for messages, e.g. 'Redis'. */
    private readonly transport: string,
    private readonly maxPayloadBytes: number,
    private readonly signer: MessageSigner | undefined,
  ) {}

  /** Called inside `publish`: throws InvalidEventError for what cannot travel. */
  encode(envelope: EventEnvelope): string[] {
    const name = envelope.name;
    if (typeof name !== 'string') {
      throw new InvalidEventError(
        `Cannot publish ${describeEventName(name)} through ${this.transport}: symbol event names cannot leave the process. Use a string name.`,
      );
    }
    if (name.length > MAX_NAME_LENGTH) {
      throw new InvalidEventError(`Cannot publish an event named "${name.slice(0, 40)}..." through ${this.transport}: names are limited to ${MAX_NAME_LENGTH} characters.`);
    }
    const id = envelope.id;
    if (id === '' || id.length > MAX_ID_LENGTH || id.trim() !== id || /[\r\n]/.test(id)) {
      throw new InvalidEventError(
        `Cannot publish "${name}" through ${this.transport}: the event id must be 1 to ${MAX_ID_LENGTH} characters on one line, without leading or trailing spaces.`,
      );
    }
    const body = serializePayload(envelope.payload, name, this.transport);
    // A UTF-8 string has at most 3 bytes per UTF-16 unit: most payloads need no byte count at all.
    const size = body.length * 3 <= this.maxPayloadBytes ? 0 : Buffer.byteLength(body, 'utf8');
    if (size > this.maxPayloadBytes) {
      throw new InvalidEventError(
        `Cannot publish "${name}" through ${this.transport}: its payload is ${size} bytes, over the ${this.maxPayloadBytes}-byte limit. ` +
          'Send a reference to the data instead, or raise maxPayloadBytes.',
      );
    }
    const occurredAt = String(envelope.occurredAt.getTime());
    const correlationId = envelope.correlationId === id ? undefined : envelope.correlationId;
    const headers = hasKeys(envelope.headers) ? JSON.stringify(envelope.headers) : undefined;
    const fields = [ENVELOPE_FIELD.id, id, ENVELOPE_FIELD.name, name, ENVELOPE_FIELD.occurredAt, occurredAt];
    if (correlationId !== undefined) fields.push(ENVELOPE_FIELD.correlationId, correlationId);
    if (envelope.causationId !== undefined) fields.push(ENVELOPE_FIELD.causationId, envelope.causationId);
    if (headers !== undefined) fields.push(ENVELOPE_FIELD.headers, headers);
    if (envelope.payload !== undefined) fields.push(ENVELOPE_FIELD.payload, body);
    if (this.signer !== undefined) {
      const canonical = this.canonical(id, name, occurredAt, correlationId, envelope.causationId, headers, envelope.payload !== undefined);
      fields.push(ENVELOPE_FIELD.signature, this.signer.sign(canonical, body));
    }
    return fields;
  }

  /** Throws PoisonMessageError with the reason when the fields are not a valid (and, with a key, authentic) envelope. */
  decode(fields: readonly string[] | null | undefined): WireEnvelope {
    if (!Array.isArray(fields) || fields.length % 2 !== 0) throw new PoisonMessageError('malformed', 'the entry has no fields, or an odd number of them');
    const raw: Partial<Record<string, string>> = {};
    let metaChars = 0;
    for (let i = 0; i < fields.length; i += 2) {
      const key = fields[i];
      const value = fields[i + 1];
      if (typeof key !== 'string' || typeof value !== 'string') throw new PoisonMessageError('malformed', 'a field is not a string');
      if (!KNOWN.has(key)) throw new PoisonMessageError('malformed', `unknown field "${key.slice(0, 64)}": not an event published by nestjs-event-bus`);
      if (raw[key] !== undefined) throw new PoisonMessageError('malformed', `field "${key}" appears twice`);
      if (key !== ENVELOPE_FIELD.payload) metaChars += value.length;
      raw[key] = value;
    }
    const data = raw[ENVELOPE_FIELD.payload];
    // String length is at most the byte length: measure bytes only when it can matter.
    if (data !== undefined && data.length * 3 > this.maxPayloadBytes && Buffer.byteLength(data, 'utf8') > this.maxPayloadBytes) {
      throw new PoisonMessageError('too-large', `payload is ${Buffer.byteLength(data, 'utf8')} bytes, over the ${this.maxPayloadBytes}-byte limit (maxPayloadBytes)`);
    }
    if (metaChars > MAX_META_CHARS) throw new PoisonMessageError('too-large', `the envelope fields hold ${metaChars} characters, over ${MAX_META_CHARS}`);
    const id = raw[ENVELOPE_FIELD.id] ?? '';
    const name = raw[ENVELOPE_FIELD.name] ?? '';
    const at = raw[ENVELOPE_FIELD.occurredAt] ?? '';
    if (this.signer !== undefined) {
      const signature = raw[ENVELOPE_FIELD.signature];
      if (signature === undefined) throw new PoisonMessageError('unsigned', `no "${ENVELOPE_FIELD.signature}" field, and a signing key is configured`);
      const canonical = this.canonical(id, name, at, raw[ENVELOPE_FIELD.correlationId], raw[ENVELOPE_FIELD.causationId], raw[ENVELOPE_FIELD.headers], data !== undefined);
      if (!this.signer.verify(canonical, Buffer.from(data ?? '', 'utf8'), signature)) {
        throw new PoisonMessageError('forged', `"${ENVELOPE_FIELD.signature}" does not match the entry (wrong key, altered, or copied from another stream)`);
      }
    }
    if (id === '' || id.length > MAX_ID_LENGTH) throw new PoisonMessageError('malformed', `missing or invalid "${ENVELOPE_FIELD.id}" field`);
    if (name === '' || name.length > MAX_NAME_LENGTH) throw new PoisonMessageError('malformed', `missing or invalid "${ENVELOPE_FIELD.name}" field`);
    const occurredAt = Number(at);
    if (at === '' || !Number.isSafeInteger(occurredAt) || occurredAt < 0) {
      throw new PoisonMessageError('malformed', `missing or invalid "${ENVELOPE_FIELD.occurredAt}" field (milliseconds since the epoch expected)`);
    }
    const wire: WireEnvelope = { id, name, payload: undefined, occurredAt, correlationId: raw[ENVELOPE_FIELD.correlationId] ?? id };
    const causationId = raw[ENVELOPE_FIELD.causationId];
    if (causationId !== undefined) wire.causationId = causationId;
    const headers = raw[ENVELOPE_FIELD.headers];
    if (headers !== undefined) wire.headers = parseWireHeaders(headers, `"${ENVELOPE_FIELD.headers}" field`);
    if (data !== undefined) wire.payload = parseWireJson(data, 'payload');
    return wire;
  }

  /** The signed string: an unambiguous JSON list of every envelope field as sent, bound to the scope. */
  private canonical(id: string, name: string, at: string, corr: string | undefined, cause: string | undefined, headers: string | undefined, hasPayload: boolean): string {
    return JSON.stringify(['v1', this.scope, id, name, at, corr ?? null, cause ?? null, headers ?? null, hasPayload]);
  }
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}
