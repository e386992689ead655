import { Injectable } from '@nestjs/common';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { DEAD_LETTER_HEADER } from '../../lib/nats/index.js';
import { DeadLetters, EventPublisher, OnEvent, REDRIVE_OF_HEADER, type EventEnvelope } from '../../lib/index.js';
import { describeWithNats, eventually, transport } from '../nats/support/nats-test-env.js';
import { setUpNatsSuite } from '../nats/support/nats-suite.js';

const describeNats = await describeWithNats();
const signingKey = 'ops-test-signing-key-0123456789';

@Injectable()
class Ledger {
  broken = true;
  readonly seen: EventEnvelope[] = [];
  @OnEvent('invoice.paid')
  record(_: unknown, envelope: EventEnvelope) {
    this.seen.push(envelope);
    if (this.broken) throw new Error('ledger offline');
  }
}

@Injectable()
class Receipts {
  readonly seen: EventEnvelope[] = [];
  @OnEvent('invoice.paid')
  send(_: unknown, envelope: EventEnvelope) {
    this.seen.push(envelope);
  }
}

@Injectable()
class Audit {
  readonly seen: EventEnvelope[] = [];
  @OnEvent('invoice.paid')
  keep(_: unknown, envelope: EventEnvelope) {
    this.seen.push(envelope);
  }
}

describeNats('DeadLetters over NATS JetStream', () => {
  const suite = setUpNatsSuite('ops_dl');

  async function start() {
    const names = suite.names();
    // One delivery: a failure is dead-lettered at once (the bus retries inside it: none configured here).
    const billing = await suite.startApp(transport(names, 'billing', { maxDeliveries: 1, signingKey }), [Ledger, Receipts]);
    const audit = await suite.startApp(transport(names, 'audit', { maxDeliveries: 1, signingKey }), [Audit]);
    const letters = billing.get(DeadLetters);
    return { names, billing, audit, letters };
  }

  it('lists, gets and redrives a dead letter to the failed handler of its group only, once', async () => {
    const { billing, audit, letters } = await start();
    expect(letters.source).toBe('nats');
    const envelope = billing.get(EventPublisher).publish('invoice.paid', { invoice: 7 }, { headers: { tenant: 't1' } });
    await eventually(async () => (await letters.list()).length === 1);
    await eventually(() => audit.get(Audit).seen.length === 1 && billing.get(Receipts).seen.length === 1);

    const [letter] = await letters.list();
    expect(letter).toEqual(
      expect.objectContaining({
        eventId: envelope.id,
        event: 'invoice.paid',
        handler: 'Ledger.record',
        group: 'billing',
        reason: 'handler-failed',
        error: 'Error: ledger offline',
        attempts: 1,
        payload: { invoice: 7 },
        headers: { tenant: 't1' },
        redrivable: true,
      }),
    );
    expect(await letters.get(letter.id)).toEqual(letter);
    expect(await letters.list({ handler: 'Receipts.send' })).toEqual([]);
    expect(await letters.list({ since: new Date(Date.now() + 60_000) })).toEqual([]);

    const ledger = billing.get(Ledger);
    ledger.broken = false;
    ledger.seen.length = 0;
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'delivered' });
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'already-redriven' });
    expect(ledger.seen).toHaveLength(1);
    expect(ledger.seen[0]).toEqual(expect.objectContaining({ id: envelope.id, attempt: 1 }));
    expect(ledger.seen[0].headers).toEqual({ tenant: 't1', [REDRIVE_OF_HEADER]: letter.id });
    // Neither the handler that had succeeded nor the other group gets it again.
    expect(billing.get(Receipts).seen).toHaveLength(1);
    expect(audit.get(Audit).seen).toHaveLength(1);
    expect(await letters.list()).toEqual([]);
  });

  it('two instances of the group redriving the same dead letter at once deliver it once', async () => {
    const { names, billing, letters } = await start();
    const other = await suite.startApp(transport(names, 'billing', { maxDeliveries: 1, signingKey }), [Ledger, Receipts]);
    billing.get(EventPublisher).publish('invoice.paid', { invoice: 8 });
    await eventually(async () => (await letters.list()).length === 1);
    const [letter] = await letters.list();
    billing.get(Ledger).broken = false;
    other.get(Ledger).broken = false;
    const seenBefore = billing.get(Ledger).seen.length + other.get(Ledger).seen.length;
    const outcomes = await Promise.all([letters.redrive(letter.id), other.get(DeadLetters).redrive(letter.id)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['already-redriven', 'delivered']);
    expect(billing.get(Ledger).seen.length + other.get(Ledger).seen.length - seenBefore).toBe(1);
  });

  it('a redrive that fails again leaves a new dead letter linked to the old one; purge removes them', async () => {
    const { billing, letters } = await start();
    billing.get(EventPublisher).publish('invoice.paid', { invoice: 9 });
    await eventually(async () => (await letters.list()).length === 1);
    const [letter] = await letters.list();
    const result = await letters.redrive(letter.id);
    expect(result).toEqual({ id: letter.id, outcome: 'failed-again', newDeadLetterId: expect.any(String) });
    const [again] = await letters.list();
    expect(again).toEqual(expect.objectContaining({ id: result.newDeadLetterId, redriveOf: letter.id, handler: 'Ledger.record', payload: { invoice: 9 } }));
    expect(await letters.get(letter.id)).toBeUndefined();
    expect(await letters.purge({ event: 'other.event' })).toBe(0);
    expect(await letters.purge({ ids: [again.id] })).toBe(1);
    expect(await letters.list()).toEqual([]);
  });

  it('redrives a dead letter kept without its body (too large) from the event stream', async () => {
    const names = suite.names();
    const billing = await suite.startApp(transport(names, 'billing', { maxDeliveries: 1, maxPayloadBytes: 1024 * 1024 }), [Ledger, Receipts]);
    const letters = billing.get(DeadLetters);
    // A payload that just fits the server's max_payload: with the dead-letter headers it would not.
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'huge-1');
    h.set('Eb-Occurred-At', String(Date.now()));
    const headerBytes = (h as unknown as { encode(): Uint8Array }).encode().length;
    const body = JSON.stringify('x'.repeat(suite.nc.info!.max_payload - headerBytes - 64));
    await jetstream(suite.nc).publish(`${names.subjectPrefix}.invoice.paid`, body, { headers: h });
    await eventually(async () => (await letters.list()).length === 1);
    const [letter] = await letters.list();
    expect(letter).toEqual(expect.objectContaining({ eventId: 'huge-1', handler: 'Ledger.record', reason: 'handler-failed', redrivable: true }));
    expect(letter.payload).toBeUndefined();
    const stored = await (await jetstreamManager(suite.nc)).streams.getMessage(names.deadLetterStream, { seq: Number(letter.id) });
    expect(stored!.header.get(DEAD_LETTER_HEADER.bodyOmitted)).not.toBe('');
    const ledger = billing.get(Ledger);
    ledger.broken = false;
    ledger.seen.length = 0;
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'delivered' });
    expect(ledger.seen).toHaveLength(1);
    expect((ledger.seen[0].payload as string).length).toBe(body.length - 2);
  });

  it('lists the newest first from the tail of the stream, reading further back until enough match', async () => {
    const { billing, letters } = await start();
    const events = billing.get(EventPublisher);
    events.publish('invoice.paid', { invoice: 'oldest' });
    await eventually(async () => (await letters.list()).length === 1);
    for (let i = 0; i < 80; i++) events.publish('invoice.paid', { invoice: i });
    await eventually(async () => (await letters.list({ limit: 1000 })).length === 81);
    const all = await letters.list({ limit: 1000 });
    expect(all[80].payload).toEqual({ invoice: 'oldest' });
    expect(Number(all[0].id)).toBeGreaterThan(Number(all[1].id));
    expect(await letters.list({ limit: 2 })).toEqual(all.slice(0, 2));
    // Only the oldest matches: beyond the first tail read (64 messages for a limit of 1).
    expect((await letters.list({ ids: [all[80].id], limit: 1 })).map((l) => l.payload)).toEqual([{ invoice: 'oldest' }]);
  });

  it('a forged message is listed with its reason and is not redrivable', async () => {
    const { names, letters } = await start();
    const h = natsHeaders();
    h.set('Nats-Msg-Id', 'forged-1');
    h.set('Eb-Occurred-At', String(Date.now()));
    await jetstream(suite.nc).publish(`${names.subjectPrefix}.invoice.paid`, '{"invoice":666}', { headers: h });
    await eventually(async () => (await letters.list({ reason: 'unsigned' })).length === 1);
    const [letter] = await letters.list({ reason: 'unsigned' });
    expect(letter).toEqual(expect.objectContaining({ event: 'invoice.paid', eventId: 'forged-1', redrivable: false }));
    expect(await letters.redrive(letter.id)).toEqual({
      id: letter.id,
      outcome: 'not-redrivable',
      detail: expect.stringContaining('cannot be read as an event'),
    });
    expect(await letters.purge()).toBe(1);
  });
});
