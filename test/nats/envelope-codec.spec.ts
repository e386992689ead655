// The codec and signer alone (no server): what goes on the wire and what a consumer refuses.
import { headers } from '@nats-io/transport-node';
import type { EventEnvelope } from '../../lib/index.js';
import { InvalidEventError } from '../../lib/index.js';
import { EnvelopeCodec, HEADER } from '../../lib/nats/envelope-codec.js';
import { PoisonMessageError } from '../../lib/nats/index.js';
import { MessageSigner } from '../../lib/transport/message-signer.js';
import { SignatureScope } from '../../lib/nats/signature-scope.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

/** Where events named 'order.placed' travel with the prefix 'events'. */
const SUBJECT = 'events.order.placed';

/** The bytes that travel for an encoded event (the client encodes the JSON string when sending). */
const bytes = (encoded: { body: string }) => new TextEncoder().encode(encoded.body);

function envelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: '0001-abc',
    name: 'order.placed',
    payload: { orderId: 1 },
    occurredAt: new Date(1_700_000_000_000),
    correlationId: 'corr',
    attempt: 1,
    headers: {},
    ...overrides,
  };
}

function poison(fn: () => unknown): PoisonMessageError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PoisonMessageError) return error;
    throw error;
  }
  throw new Error('expected a PoisonMessageError');
}

describe('EnvelopeCodec', () => {
  const codec = new EnvelopeCodec('events', 1024, undefined);

  it('round-trips every envelope field, headers with unusual characters included', () => {
    const original = envelope({
      name: 'order placed/€',
      causationId: 'cause:1',
      correlationId: 'a\nb',
      headers: { tenant: 'acme', note: 'line1\r\nline2', 'ü': 'ö' },
      payload: { nested: [1, 'two', null], s: 'é' },
    });
    const encoded = codec.encode(original);
    expect(codec.decode({ subject: SUBJECT, headers: encoded.headers, data: bytes(encoded) })).toEqual({
      id: '0001-abc',
      name: 'order placed/€',
      payload: { nested: [1, 'two', null], s: 'é' },
      occurredAt: 1_700_000_000_000,
      correlationId: 'a\nb',
      causationId: 'cause:1',
      headers: { tenant: 'acme', note: 'line1\r\nline2', 'ü': 'ö' },
    });
  });

  it('puts names a subject cannot carry, or that look encoded, in the Eb-Name header', () => {
    for (const name of ['order placed', 'a..b', '_.looks.encoded', 'ünïcode']) {
      const encoded = codec.encode(envelope({ name }));
      expect(encoded.headers.get(HEADER.name)).toBe(encodeURIComponent(name));
      expect(codec.decode({ subject: encoded.subject, headers: encoded.headers, data: bytes(encoded) }).name).toBe(name);
    }
  });

  it('routes valid names to <prefix>.<name> and encodes the others into one subject token', () => {
    expect(codec.subjectFor('order.placed')).toBe('events.order.placed');
    expect(codec.subjectFor('order placed')).toBe(`events._.${Buffer.from('order placed').toString('base64url')}`);
    expect(codec.subjectFor('a..b')).toMatch(/^events\._\.[A-Za-z0-9_-]+$/);
    expect(codec.subjectFor('a.>')).toMatch(/^events\._\./);
  });

  it('keeps an undefined payload undefined', () => {
    const encoded = codec.encode(envelope({ payload: undefined }));
    expect(encoded.body).toHaveLength(0);
    expect(codec.decode({ subject: SUBJECT, headers: encoded.headers, data: bytes(encoded) }).payload).toBeUndefined();
  });

  it('refuses what JSON cannot carry, and payloads over the limit (also the server limit)', () => {
    expect(() => codec.encode(envelope({ payload: { n: 1n } }))).toThrow(InvalidEventError);
    expect(() => codec.encode(envelope({ payload: Symbol('x') }))).toThrow(InvalidEventError);
    expect(() => codec.encode(envelope({ payload: 'x'.repeat(2000) }))).toThrow(/over the 1024-byte limit/);
    expect(() => codec.encode(envelope({ payload: 'x'.repeat(600) }), 500)).toThrow(/exceed the server's max_payload \(500 bytes\)/);
  });

  it('names the reason of each malformed message', () => {
    const good = codec.encode(envelope());
    const withHeader = (name: string, value: string | undefined) => {
      const h = headers();
      for (const key of good.headers.keys()) if (key !== name) h.set(key, good.headers.get(key));
      if (value !== undefined) h.set(name, value);
      return h;
    };
    const data = bytes(good);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: undefined, data })).reason).toBe('malformed');
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.id, undefined), data })).message).toMatch(/Nats-Msg-Id/);
    // A plain name travels as the subject's tail only; without Eb-Name, a subject outside the prefix names nothing.
    expect(good.headers.get(HEADER.name)).toBe('');
    expect(codec.decode({ subject: SUBJECT, headers: good.headers, data }).name).toBe('order.placed');
    expect(poison(() => codec.decode({ subject: 'elsewhere.order.placed', headers: good.headers, data })).message).toMatch(/missing Eb-Name/);
    expect(poison(() => codec.decode({ subject: 'events._.b3JkZXI', headers: good.headers, data })).message).toMatch(/missing Eb-Name/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.name, '%E0%A4%A'), data })).message).toMatch(/not URI-encoded/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.occurredAt, 'yesterday'), data })).message).toMatch(/Eb-Occurred-At/);
    // No correlation header: the event is its own correlation (the encoder leaves it out then).
    expect(codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.correlationId, undefined), data }).correlationId).toBe('0001-abc');
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.headers, encodeURIComponent('[1]')), data })).message).toMatch(/JSON object/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: withHeader(HEADER.headers, encodeURIComponent('{"a":1}')), data })).message).toMatch(/"a" is not a string/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: good.headers, data: new TextEncoder().encode('{oops') })).message).toMatch(/not valid JSON/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: good.headers, data: new Uint8Array([0xff, 0xfe]) })).message).toMatch(/UTF-8/);
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: good.headers, data: new Uint8Array(2048) })).reason).toBe('too-large');
  });

  it('refuses "__proto__" keys anywhere in the payload or headers', () => {
    const good = codec.encode(envelope());
    const body = new TextEncoder().encode('{"deep":[{"__proto__":{"isAdmin":true}}]}');
    expect(poison(() => codec.decode({ subject: SUBJECT, headers: good.headers, data: body })).message).toMatch(/__proto__/);
    // A mere mention in a value is fine.
    const harmless = new TextEncoder().encode('{"text":"__proto__"}');
    expect(codec.decode({ subject: SUBJECT, headers: good.headers, data: harmless }).payload).toEqual({ text: '__proto__' });
  });
});

describe('EnvelopeCodec with a signing key', () => {
  const signed = new EnvelopeCodec('events', 1024, new MessageSigner(KEY));

  it('accepts what it signed, and refuses unsigned, wrongly signed and altered messages', () => {
    const encoded = signed.encode(envelope());
    expect(signed.decode({ subject: SUBJECT, headers: encoded.headers, data: bytes(encoded) }).id).toBe('0001-abc');

    const unsigned = new EnvelopeCodec('events', 1024, undefined).encode(envelope());
    expect(poison(() => signed.decode({ subject: SUBJECT, headers: unsigned.headers, data: bytes(unsigned) })).reason).toBe('unsigned');

    const otherKey = new EnvelopeCodec('events', 1024, new MessageSigner(Buffer.from('another key of 32 bytes length!!'))).encode(envelope());
    expect(poison(() => signed.decode({ subject: SUBJECT, headers: otherKey.headers, data: bytes(otherKey) })).reason).toBe('forged');

    const altered = new TextEncoder().encode('{"orderId":2}');
    expect(poison(() => signed.decode({ subject: SUBJECT, headers: encoded.headers, data: altered })).reason).toBe('forged');

    // Moving a signature to another event (a different id) breaks it too: every envelope field is signed.
    const other = signed.encode(envelope({ id: '0002-xyz' }));
    const moved = encoded.headers;
    moved.set(HEADER.signature, other.headers.get(HEADER.signature));
    expect(poison(() => signed.decode({ subject: SUBJECT, headers: moved, data: bytes(encoded) })).reason).toBe('forged');
  });

  it('treats a garbage signature as forged, whatever its length', () => {
    const encoded = signed.encode(envelope());
    for (const garbage of ['x', 'AAAA', 'not base64 at all!', 'A'.repeat(500)]) {
      const h = encoded.headers;
      h.set(HEADER.signature, garbage);
      expect(poison(() => signed.decode({ subject: SUBJECT, headers: h, data: bytes(encoded) })).reason).toBe('forged');
    }
  });
});

describe('EnvelopeCodec signatures bound to stream, subject and signing time', () => {
  const scope = new SignatureScope('ORDERS', 60_000, 30_000);
  const signed = new EnvelopeCodec('events', 1024, new MessageSigner(KEY), scope);

  it('refuses a copy replayed into another stream or under another subject', () => {
    const encoded = signed.encode(envelope());
    const otherStream = new EnvelopeCodec('events', 1024, new MessageSigner(KEY), new SignatureScope('AUDIT', 60_000, 30_000));
    expect(signed.decode({ subject: SUBJECT, headers: encoded.headers, data: bytes(encoded) }).id).toBe('0001-abc');
    expect(poison(() => otherStream.decode({ subject: SUBJECT, headers: encoded.headers, data: bytes(encoded) })).reason).toBe('forged');
    expect(poison(() => signed.decode({ subject: 'events.order.cancelled', headers: encoded.headers, data: bytes(encoded) })).reason).toBe('forged');
  });

  it('refuses a copy stored longer after its signing than maxAge + skew (a replay), or signed too far in the future', () => {
    const encoded = signed.encode(envelope());
    const h = encoded.headers;
    const signedAt = Number(h.get(HEADER.signedAt));
    const decode = (storedAtMs: number) => signed.decode({ subject: SUBJECT, headers: h, data: bytes(encoded), storedAtMs });
    expect(decode(signedAt + 90_000).id).toBe('0001-abc');
    expect(decode(signedAt - 30_000).id).toBe('0001-abc');
    expect(poison(() => decode(signedAt + 90_001)).reason).toBe('expired');
    expect(poison(() => decode(signedAt - 30_001)).reason).toBe('expired');
    // The signing time is signed: moving it breaks the signature.
    h.set(HEADER.signedAt, String(signedAt + 1000));
    expect(poison(() => decode(signedAt + 1000)).reason).toBe('forged');
  });
});
