import { ENVELOPE_FIELD, FieldEnvelopeCodec } from '../../lib/transport/field-envelope-codec.js';
import { MessageSigner } from '../../lib/transport/message-signer.js';
import { PoisonMessageError } from '../../lib/transport/poison-message.error.js';
import type { EventEnvelope } from '../../lib/index.js';

const key = new TextEncoder().encode('0123456789abcdef-shared');
const signed = new FieldEnvelopeCodec('{events}:stream', 'Redis', 1024, new MessageSigner(key));
const plain = new FieldEnvelopeCodec('{events}:stream', 'Redis', 1024, undefined);

function envelope(overrides: Partial<EventEnvelope> = {}): EventEnvelope {
  return {
    id: 'evt-1',
    name: 'order.placed',
    payload: { orderId: 7, lines: ['a'] },
    occurredAt: new Date(1_700_000_000_000),
    correlationId: 'corr-1',
    causationId: 'cause-1',
    attempt: 1,
    headers: { tenant: 'acme' },
    ...overrides,
  } as EventEnvelope;
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof PoisonMessageError) return error.reason;
    throw error;
  }
  return 'accepted';
}

describe('FieldEnvelopeCodec (envelopes as string fields)', () => {
  it('round-trips every envelope field, signed', () => {
    expect(signed.decode(signed.encode(envelope()))).toEqual({
      id: 'evt-1',
      name: 'order.placed',
      payload: { orderId: 7, lines: ['a'] },
      occurredAt: 1_700_000_000_000,
      correlationId: 'corr-1',
      causationId: 'cause-1',
      headers: { tenant: 'acme' },
    });
  });

  it('leaves out what is implied (correlation id = own id, no payload)', () => {
    const fields = plain.encode(envelope({ correlationId: 'evt-1', causationId: undefined, payload: undefined, headers: {} }));
    expect(fields).toEqual([ENVELOPE_FIELD.id, 'evt-1', ENVELOPE_FIELD.name, 'order.placed', ENVELOPE_FIELD.occurredAt, '1700000000000']);
    expect(plain.decode(fields)).toEqual({ id: 'evt-1', name: 'order.placed', payload: undefined, occurredAt: 1_700_000_000_000, correlationId: 'evt-1' });
  });

  it('rejects unsigned, forged, re-scoped, unknown, repeated, oversize and malformed entries with their reason', () => {
    const good = signed.encode(envelope());
    const tampered = [...good];
    tampered[tampered.indexOf(ENVELOPE_FIELD.payload) + 1] = '{"orderId":8,"lines":["a"]}';
    const otherStream = new FieldEnvelopeCodec('{other}:stream', 'Redis', 1024, new MessageSigner(key));
    expect(reason(() => signed.decode(plain.encode(envelope())))).toBe('unsigned');
    expect(reason(() => signed.decode(tampered))).toBe('forged');
    expect(reason(() => otherStream.decode(good))).toBe('forged');
    expect(reason(() => plain.decode([...plain.encode(envelope()), 'extra', '1']))).toBe('malformed');
    expect(reason(() => plain.decode([...plain.encode(envelope()), ENVELOPE_FIELD.id, 'again']))).toBe('malformed');
    expect(reason(() => plain.decode(['id', 'x', 'name', 'n', 'at', '1', 'data', `"${'x'.repeat(2000)}"`]))).toBe('too-large');
    expect(reason(() => plain.decode(['id', 'x', 'name', 'n', 'at', 'yesterday']))).toBe('malformed');
    expect(reason(() => plain.decode(['id', 'x', 'name', 'n', 'at', '1', 'data', '{"__proto__":{"admin":true}}']))).toBe('malformed');
    expect(reason(() => plain.decode(['id', 'x', 'name']))).toBe('malformed');
    expect(reason(() => plain.decode(null))).toBe('malformed');
  });

  it('refuses at encode what cannot travel: ids with surrounding spaces, very long names, untransportable payloads', () => {
    expect(() => plain.encode(envelope({ id: ' evt' }))).toThrow(/without leading or trailing spaces/);
    expect(() => plain.encode(envelope({ name: '注'.repeat(1200) }))).toThrow(/limited to 1024 characters/);
    expect(() => plain.encode(envelope({ payload: { price: 1n } }))).toThrow(/payload\.price cannot travel/);
    expect(() => plain.encode(envelope({ payload: 'x'.repeat(2000) }))).toThrow(/over the 1024-byte limit/);
  });
});
