import { Injectable } from '@nestjs/common';
import { jetstream, type StoredMsg } from '@nats-io/jetstream';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import type { TransportHost } from '../../lib/transport/event-transport.interface.js';
import { EnvelopeCodec } from '../../lib/nats/envelope-codec.js';
import { MessageSigner } from '../../lib/transport/message-signer.js';
import { SignatureScope } from '../../lib/nats/signature-scope.js';
import { DEAD_LETTER_HEADER } from '../../lib/nats/index.js';
import {
  consumerIsIdle,
  describeWithNats,
  eventually,
  Progress,
  storedMessages,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

@Injectable()
class AuditListener {
  readonly handled: EventEnvelope[] = [];
  readonly progress = new Progress();
  @OnEvent('audit.**')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
}

/** Headers of a well-formed envelope, as another publisher would write them. */
function envelopeHeaders(id: string, name = 'audit.entry'): MsgHdrs {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  h.set('Eb-Name', name);
  h.set('Eb-Occurred-At', String(Date.now()));
  h.set('Eb-Correlation-Id', id);
  return h;
}

const encoder = new TextEncoder();

/** Dead letters are published concurrently: order them by the original message's stream sequence. */
function inOriginalOrder(letters: StoredMsg[]): StoredMsg[] {
  const seq = (l: StoredMsg) => Number(l.header.get(DEAD_LETTER_HEADER.originalSequence));
  return [...letters].sort((a, b) => seq(a) - seq(b));
}

describeNats('NATS JetStream transport: poison and forged messages', () => {
  const suite = setUpNatsSuite('poison');

  it('dead-letters messages that are not valid envelopes, with the reason, and keeps consuming', async () => {
    const n = suite.names('poison');
    const app = await suite.startApp(transport(n, 'audit', { maxPayloadBytes: 1024 }), [AuditListener]);
    const js = jetstream(suite.nc);
    const subject = `${n.subjectPrefix}.audit.entry`;

    await js.publish(subject, encoder.encode('{"not json'), { headers: envelopeHeaders('poison-1') });
    const noTime = envelopeHeaders('poison-2');
    noTime.delete('Eb-Occurred-At');
    await js.publish(subject, encoder.encode('{}'), { headers: noTime });
    await js.publish(subject, encoder.encode('{"a":{"__proto__":{"polluted":true}}}'), { headers: envelopeHeaders('poison-3') });
    await js.publish(subject, encoder.encode(JSON.stringify({ blob: 'x'.repeat(2000) })), { headers: envelopeHeaders('poison-4') });
    await js.publish(subject, encoder.encode('plain text, no headers at all'));
    const after = app.get(EventPublisher).publish('audit.entry', { ok: true });

    await app.get(AuditListener).progress.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'audit'));
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 5);

    expect(app.get(AuditListener).handled.map((e) => e.id)).toEqual([after.id]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const letters = inOriginalOrder(await storedMessages(suite.nc, n.deadLetterStream));
    const byOriginal = (seqIndex: number) => letters[seqIndex];
    const summary = letters.map((l) => [l.header.get(DEAD_LETTER_HEADER.reason), l.header.get(DEAD_LETTER_HEADER.error)]);
    expect(summary[0]).toEqual(['malformed', expect.stringContaining('payload is not valid JSON')]);
    expect(summary[1]).toEqual(['malformed', expect.stringContaining('missing or invalid Eb-Occurred-At header')]);
    expect(summary[2]).toEqual(['malformed', expect.stringContaining('"__proto__" key is not allowed')]);
    expect(summary[3]).toEqual(['too-large', expect.stringContaining('over the 1024-byte limit')]);
    expect(summary[4]).toEqual(['malformed', expect.stringContaining('no headers')]);
    // The original body travels with the dead letter, for inspection and replay.
    expect(byOriginal(0).string()).toBe('{"not json');
    expect(letters.every((l) => l.header.get(DEAD_LETTER_HEADER.deliveries) === '1')).toBe(true);
  });

  it('dead-letters a message the bus cannot restore into an envelope (instead of leaving it to the ack wait forever)', async () => {
    const n = suite.names('revive');
    const natsTransport = transport(n, 'audit');
    // The bus behind the transport: it cannot rebuild 'audit.total' events (e.g. an event class that
    // rejects the payload). restoreEnvelope's contract does not promise it never throws.
    const delivered: string[] = [];
    const host: TransportHost = {
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined },
      subscriptions: () => ['audit.**'],
      restoreEnvelope: (fields) => {
        if (fields.name === 'audit.total') throw new TypeError('AuditTotal cannot take a "total" field');
        return { ...fields, occurredAt: new Date(fields.occurredAt), correlationId: fields.correlationId ?? fields.id, attempt: 1, headers: fields.headers ?? {} };
      },
      deliver: (envelope) => {
        delivered.push(envelope.id);
        return Promise.resolve({ envelope, handled: 1, failed: [] });
      },
      settledHandlers: () => [],
    };
    await natsTransport.start(host);
    try {
      const js = jetstream(suite.nc);
      await js.publish(`${n.subjectPrefix}.audit.total`, encoder.encode('{"amounts":[1,2],"total":3}'), {
        headers: envelopeHeaders('unrevivable-1', 'audit.total'),
      });
      await js.publish(`${n.subjectPrefix}.audit.entry`, encoder.encode('{}'), { headers: envelopeHeaders('fine-1') });

      await eventually(() => delivered.length === 1);
      await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 1);
      await eventually(() => consumerIsIdle(suite.nc, n.stream, 'audit'));

      expect(delivered).toEqual(['fine-1']);
      const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
      expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('malformed');
      expect(letter.header.get(DEAD_LETTER_HEADER.error)).toMatch(/could not be restored.*AuditTotal cannot take a "total" field/);
      expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe('unrevivable-1');
      expect(letter.header.get(DEAD_LETTER_HEADER.deliveries)).toBe('1');
    } finally {
      await natsTransport.close();
    }
  });

  it('dead-letters a message near the server max_payload without its body, rather than retrying forever', async () => {
    const n = suite.names('huge');
    const app = await suite.startApp(transport(n, 'audit', { maxPayloadBytes: 1024 }), [AuditListener]);
    // The original just fits the server's max_payload; with the dead-letter headers added it would not.
    const h = envelopeHeaders('huge-1');
    const headerBytes = (h as unknown as { encode(): Uint8Array }).encode().length;
    const size = suite.nc.info!.max_payload - headerBytes - 16;
    await jetstream(suite.nc).publish(`${n.subjectPrefix}.audit.entry`, new Uint8Array(size).fill(0x78), { headers: h });
    const after = app.get(EventPublisher).publish('audit.entry', { ok: true });

    await app.get(AuditListener).progress.reach(1);
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'audit'));

    expect(app.get(AuditListener).handled.map((e) => e.id)).toEqual([after.id]);
    const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('too-large');
    expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe('huge-1');
    expect(letter.header.get(DEAD_LETTER_HEADER.bodyOmitted)).toBe(String(size));
    expect(letter.data).toHaveLength(0);
  });

  it('with a signing key, dead-letters unsigned and wrongly signed messages and handles signed ones', async () => {
    const n = suite.names('signed');
    const key = 'a shared secret of enough length';
    const app = await suite.startApp(transport(n, 'audit', { signingKey: key }), [AuditListener]);
    const js = jetstream(suite.nc);
    const subject = `${n.subjectPrefix}.audit.entry`;
    const envelope = (id: string) =>
      ({ id, name: 'audit.entry', payload: { amount: 100 }, occurredAt: new Date(), correlationId: id, attempt: 1, headers: {} }) as EventEnvelope;

    // Unsigned.
    await js.publish(subject, encoder.encode('{"amount":100}'), { headers: envelopeHeaders('forged-1') });
    // Signed with another key.
    const stranger = new EnvelopeCodec(n.subjectPrefix!, 1 << 20, new MessageSigner(Buffer.from('not the shared secret at all!!')));
    const wrongKey = stranger.encode(envelope('forged-2'));
    await js.publish(wrongKey.subject, wrongKey.body, { headers: wrongKey.headers });
    // Signed with the right key, then the body was changed on the way.
    const insider = new EnvelopeCodec(n.subjectPrefix!, 1 << 20, new MessageSigner(Buffer.from(key)), new SignatureScope(n.stream, 60_000, 30_000));
    const tampered = insider.encode(envelope('forged-3'));
    await js.publish(tampered.subject, encoder.encode('{"amount":1000000}'), { headers: tampered.headers });
    // Correctly signed by another publisher with the key: accepted.
    const genuine = insider.encode(envelope('genuine-1'));
    await js.publish(genuine.subject, genuine.body, { headers: genuine.headers });
    // And one through the bus itself.
    const ours = app.get(EventPublisher).publish('audit.entry', { amount: 5 });

    await app.get(AuditListener).progress.reach(2);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'audit'));
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 3);

    expect(app.get(AuditListener).handled.map((e) => e.id).sort()).toEqual(['genuine-1', ours.id].sort());
    expect(app.get(AuditListener).handled.find((e) => e.id === 'genuine-1')?.payload).toEqual({ amount: 100 });
    const letters = inOriginalOrder(await storedMessages(suite.nc, n.deadLetterStream));
    expect(letters.map((l) => l.header.get(DEAD_LETTER_HEADER.reason))).toEqual(['unsigned', 'forged', 'forged']);
    expect(letters.map((l) => l.header.get(DEAD_LETTER_HEADER.originalId))).toEqual(['forged-1', 'forged-2', 'forged-3']);
    expect(letters[1].header.get(DEAD_LETTER_HEADER.error)).toContain('Eb-Signature does not match');
  });
});
