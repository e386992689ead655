import { createHash } from 'node:crypto';
import { headers as createHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import { InvalidEventError } from '../errors.js';
import type { MessageSigner } from '../transport/message-signer.js';
import { serializePayload } from '../transport/payload-rules.js';
import { PoisonMessageError } from '../transport/poison-message.error.js';
import { parseWireHeaders, parseWireJson } from '../transport/wire-json.js';
import { SignatureScope } from './signature-scope.js';

/** Header names. Envelope fields travel as headers; the body is the payload's JSON. */
export const HEADER = {
  /** JetStream's de-duplication id: the envelope id. */
  id: 'Nats-Msg-Id',
  name: 'Eb-Name',
  occurredAt: 'Eb-Occurred-At',
  correlationId: 'Eb-Correlation-Id',
  causationId: 'Eb-Causation-Id',
  headers: 'Eb-Headers',
  signature: 'Eb-Signature',
  /** When the copy was signed (ms since the epoch); signed, with the stream and subject. */
  signedAt: 'Eb-Signed-At',
} as const;

/** The header values of one event, as sent (URI-encoded where the value is free text). */
interface HeaderFields {
  id: string;
  /** The name as signed: the subject's tail, or (for names a subject cannot carry) the Eb-Name header value. */
  name: string;
  nameInHeader: boolean;
  occurredAt: string;
  correlationId: string | undefined;
  causationId?: string;
  headers?: string;
}

/** How an event is signed when sent: each copy gets its own signing time (see SignatureScope). */
interface Signing {
  signer: MessageSigner;
  scope: SignatureScope;
  canonical: string;
}

/**
 * An event ready for `js.publish`. The NATS headers object is built only when the message is sent:
 * `publish()` may queue thousands of events, and each headers object is a Map of arrays.
 */
export class EncodedEvent {
  constructor(
    readonly subject: string,
    private readonly fields: HeaderFields,
    /** The payload's JSON; the client encodes it when sending (a string is far lighter to queue than bytes). */
    readonly body: string,
    private readonly signing: Signing | undefined,
  ) {}

  /** The size of the headers on the wire (they count against the server's max_payload with the body). */
  get headerBytes(): number {
    const f = this.fields;
    let size = WIRE_HEADER_OVERHEAD + headerLine(HEADER.id, f.id) + headerLine(HEADER.occurredAt, f.occurredAt);
    if (f.nameInHeader) size += headerLine(HEADER.name, f.name);
    if (f.correlationId !== undefined) size += headerLine(HEADER.correlationId, f.correlationId);
    if (f.causationId !== undefined) size += headerLine(HEADER.causationId, f.causationId);
    if (f.headers !== undefined) size += headerLine(HEADER.headers, f.headers);
    if (this.signing !== undefined) size += SIGNATURE_HEADERS_BYTES;
    return size;
  }

  get id(): string {
    return this.fields.id;
  }

  get headers(): MsgHdrs {
    const f = this.fields;
    // append(), not set(): the headers are fresh, and set() first scans for the key to delete.
    const h = createHeaders();
    h.append(HEADER.id, f.id);
    if (f.nameInHeader) h.append(HEADER.name, f.name);
    h.append(HEADER.occurredAt, f.occurredAt);
    if (f.correlationId !== undefined) h.append(HEADER.correlationId, f.correlationId);
    if (f.causationId !== undefined) h.append(HEADER.causationId, f.causationId);
    if (f.headers !== undefined) h.append(HEADER.headers, f.headers);
    const signing = this.signing;
    if (signing !== undefined) {
      const signedAt = String(Date.now());
      h.append(HEADER.signedAt, signedAt);
      h.append(HEADER.signature, signing.signer.sign(signing.scope.context(this.subject, signedAt) + signing.canonical, this.body));
    }
    return h;
  }
}

/** What a received message decodes to: the fields `TransportHost.restoreEnvelope` takes. */
export interface WireEnvelope {
  id: string;
  name: string;
  payload: unknown;
  occurredAt: number;
  correlationId: string;
  causationId?: string;
  headers?: Record<string, string>;
}

/** What the codec reads from a received message. */
export interface ReceivedMessage {
  subject: string;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
  /** When the server stored it (ms since the epoch), for the signature's freshness check. */
  storedAtMs?: number;
}

const MAX_ID_LENGTH = 256;
/**
 * Longest subject sent. The server's control line (PUB subject reply sizes) is limited (4 KiB by
 * default); a longer one makes the server close the connection, and the client sends it again on every
 * reconnect. Longer names travel under a digest of the name, the name itself in Eb-Name.
 */
const MAX_SUBJECT_LENGTH = 256;
/** The subject token before the digest of a name too long for a subject. */
const DIGEST_TOKEN = '_h.';
/** 'NATS/1.0\r\n' and the closing '\r\n'. */
const WIRE_HEADER_OVERHEAD = 12;
/** Eb-Signed-At (13 digits) and Eb-Signature (base64 of 32 bytes), each 'Key: value\r\n'. */
const SIGNATURE_HEADERS_BYTES = headerLine(HEADER.signedAt, '0000000000000') + headerLine(HEADER.signature, 'x'.repeat(44));
const MAX_CACHED_SUBJECTS = 10_000;
/** The subject token before a base64url-encoded name. */
const ENCODED_TOKEN = '_.';

interface Route {
  subject: string;
  nameInHeader: boolean;
}
const EMPTY = new Uint8Array(0);
/** A name that is already a valid subject tail (printable ASCII tokens without wildcards). */
const SUBJECT_SAFE = /^[\x21-\x29\x2b-\x2d\x2f-\x3d\x3f-\x7e]+(\.[\x21-\x29\x2b-\x2d\x2f-\x3d\x3f-\x7e]+)*$/;

/**
 * Turns envelopes into NATS messages and back. Decoding trusts nothing: every field is checked, the
 * signature (when a key is set) before anything is parsed, and `__proto__` keys are refused so a
 * payload cannot change a prototype when it is revived into an event class.
 */
export class EnvelopeCodec {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly routes = new Map<string, Route>();
  private readonly subjectStart: string;

  constructor(
    private readonly subjectPrefix: string,
    private readonly maxPayloadBytes: number,
    private readonly signer: MessageSigner | undefined,
    private readonly scope = new SignatureScope('', Infinity, 0),
  ) {
    this.subjectStart = `${subjectPrefix}.`;
  }

  /** Called inside `publish`: throws InvalidEventError for what cannot travel. */
  encode(envelope: EventEnvelope, serverMaxPayload = Infinity): EncodedEvent {
    const name = envelope.name;
    if (typeof name !== 'string') {
      throw new InvalidEventError(
        `Cannot publish ${describeEventName(name)} through NATS: symbol event names cannot leave the process. Use a string name.`,
      );
    }
    const body = serializePayload(envelope.payload, name, 'NATS');
    const size = Buffer.byteLength(body, 'utf8');
    if (size > this.maxPayloadBytes) {
      throw new InvalidEventError(
        `Cannot publish "${name}" through NATS: its payload is ${size} bytes, over the ${this.maxPayloadBytes}-byte limit. ` +
          'Send a reference to the data instead, or raise maxPayloadBytes (and the server max_payload).',
      );
    }
    const route = this.route(name);
    const fields: HeaderFields = {
      id: envelope.id,
      // Most names are their subject's tail: no header needed. The others travel in Eb-Name.
      name: route.nameInHeader ? encodeURIComponent(name) : name,
      nameInHeader: route.nameInHeader,
      occurredAt: String(envelope.occurredAt.getTime()),
      // Absent when it is the event's own id (the usual case): one header less to write and parse.
      correlationId: envelope.correlationId === envelope.id ? undefined : encodeURIComponent(envelope.correlationId),
    };
    if (envelope.causationId !== undefined) fields.causationId = encodeURIComponent(envelope.causationId);
    if (hasKeys(envelope.headers)) fields.headers = encodeURIComponent(JSON.stringify(envelope.headers));
    if (fields.id === '' || fields.id.length > MAX_ID_LENGTH || fields.id.includes('\n') || fields.id.includes('\r')) {
      throw new InvalidEventError(`Cannot publish "${name}" through NATS: the event id must be 1 to ${MAX_ID_LENGTH} characters on one line.`);
    }
    const encoded = new EncodedEvent(
      route.subject,
      fields,
      body,
      this.signer === undefined ? undefined : { signer: this.signer, scope: this.scope, canonical: canonicalFields(fields) },
    );
    if (size + encoded.headerBytes > serverMaxPayload) {
      throw new InvalidEventError(
        `Cannot publish "${name}" through NATS: its payload (${size} bytes) and headers (${encoded.headerBytes} bytes) exceed the server's ` +
          `max_payload (${serverMaxPayload} bytes). Send less (a reference to the data, fewer or shorter headers, a shorter name), or raise max_payload.`,
      );
    }
    return encoded;
  }

  subjectFor(name: string): string {
    return this.route(name).subject;
  }

  private route(name: string): Route {
    let route = this.routes.get(name);
    if (route === undefined) {
      // Names that are not valid subject tokens (spaces, empty segments, non-ASCII), and names that look
      // like the encoded form, travel under an encoded token, with the name in the Eb-Name header.
      route =
        SUBJECT_SAFE.test(name) && !name.startsWith(ENCODED_TOKEN)
          ? { subject: `${this.subjectPrefix}.${name}`, nameInHeader: false }
          : { subject: `${this.subjectPrefix}.${ENCODED_TOKEN}${Buffer.from(name, 'utf8').toString('base64url')}`, nameInHeader: true };
      if (route.subject.length > MAX_SUBJECT_LENGTH) {
        route = { subject: `${this.subjectPrefix}.${DIGEST_TOKEN}${createHash('sha256').update(name, 'utf8').digest('base64url')}`, nameInHeader: true };
      }
      // Event names are few; a runaway set of generated names must not grow this without bound.
      if (this.routes.size < MAX_CACHED_SUBJECTS) this.routes.set(name, route);
    }
    return route;
  }

  /** Throws PoisonMessageError with the reason when the message is not a valid (and, with a key, authentic) envelope. */
  decode(message: ReceivedMessage): WireEnvelope {
    const body = message.data ?? EMPTY;
    if (body.length > this.maxPayloadBytes) {
      throw new PoisonMessageError('too-large', `payload is ${body.length} bytes, over the ${this.maxPayloadBytes}-byte limit (maxPayloadBytes)`);
    }
    const h = message.headers;
    if (h === undefined) throw new PoisonMessageError('malformed', 'no headers: not an event published by nestjs-event-bus');
    // One pass over the headers: each MsgHdrs.get() scans and copies every key.
    const raw = { id: '', name: '', nameInHeader: false, occurredAt: '', correlationId: '', causationId: undefined as string | undefined, headers: undefined as string | undefined };
    let signature = '';
    let signedAt = '';
    for (const [key, values] of h) {
      const value = values[0] ?? '';
      switch (key) {
        case HEADER.id:
          raw.id = value;
          break;
        case HEADER.name:
          raw.name = value;
          break;
        case HEADER.occurredAt:
          raw.occurredAt = value;
          break;
        case HEADER.correlationId:
          raw.correlationId = value;
          break;
        case HEADER.causationId:
          raw.causationId = optional(value);
          break;
        case HEADER.headers:
          raw.headers = optional(value);
          break;
        case HEADER.signature:
          signature = value;
          break;
        case HEADER.signedAt:
          signedAt = value;
          break;
        default:
          break;
      }
    }
    if (raw.name === '') {
      // No Eb-Name: the name is the subject's tail.
      const tail = message.subject.startsWith(this.subjectStart) ? message.subject.slice(this.subjectStart.length) : '';
      if (tail === '' || tail.startsWith(ENCODED_TOKEN)) {
        throw new PoisonMessageError('malformed', `missing ${HEADER.name} header, and the subject "${message.subject}" does not name the event`);
      }
      raw.name = tail;
    } else {
      raw.nameInHeader = true;
    }
    if (this.signer !== undefined) {
      if (signature === '') throw new PoisonMessageError('unsigned', `no ${HEADER.signature} header, and a signing key is configured`);
      if (!this.signer.verify(this.scope.context(message.subject, signedAt) + canonicalFields(raw), body, signature)) {
        throw new PoisonMessageError(
          'forged',
          `${HEADER.signature} does not match the message (wrong key, the message was altered, or it was replayed to another stream or subject)`,
        );
      }
      this.scope.checkFreshness(signedAt, message.storedAtMs);
    }
    if (raw.id === '' || raw.id.length > MAX_ID_LENGTH) throw new PoisonMessageError('malformed', `missing or invalid ${HEADER.id} header`);
    const name = raw.nameInHeader ? decodeField(HEADER.name, raw.name) : raw.name;
    if (name.length === 0) throw new PoisonMessageError('malformed', `empty ${HEADER.name} header`);
    const occurredAt = Number(raw.occurredAt);
    if (raw.occurredAt === '' || !Number.isSafeInteger(occurredAt) || occurredAt < 0) {
      throw new PoisonMessageError('malformed', `missing or invalid ${HEADER.occurredAt} header (milliseconds since the epoch expected)`);
    }
    const correlationId = raw.correlationId === '' ? raw.id : decodeField(HEADER.correlationId, raw.correlationId);
    const wire: WireEnvelope = { id: raw.id, name, payload: undefined, occurredAt, correlationId };
    if (raw.causationId !== undefined) wire.causationId = decodeField(HEADER.causationId, raw.causationId);
    if (raw.headers !== undefined) wire.headers = parseWireHeaders(decodeField(HEADER.headers, raw.headers), `${HEADER.headers} header`);
    if (body.length !== 0) wire.payload = parseWireJson(this.decodeText(body), 'payload');
    return wire;
  }

  private decodeText(body: Uint8Array): string {
    try {
      return this.decoder.decode(body);
    } catch {
      throw new PoisonMessageError('malformed', 'payload is not valid UTF-8');
    }
  }
}

function headerLine(key: string, value: string): number {
  return key.length + 2 + Buffer.byteLength(value, 'utf8') + 2;
}

function hasKeys(record: object): boolean {
  for (const _ in record) return true;
  return false;
}

/** The signed string: every envelope header exactly as sent (they are URI-encoded, so '\n' cannot occur inside one). */
function canonicalFields(f: HeaderFields): string {
  return `v1\n${f.id}\n${f.nameInHeader ? 'h:' : 's:'}${f.name}\n${f.occurredAt}\n${f.correlationId ?? ''}\n${f.causationId ?? ''}\n${f.headers ?? ''}\n`;
}

function optional(value: string): string | undefined {
  return value === '' ? undefined : value;
}

function decodeField(header: string, value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    throw new PoisonMessageError('malformed', `${header} header is not URI-encoded text`);
  }
}
