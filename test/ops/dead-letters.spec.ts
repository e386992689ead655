import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DeadLetters, Event, EventBus, EventBusModule, EventPublisher, InvalidDeadLetterQueryError, OnEvent, REDRIVE_OF_HEADER, type EventEnvelope } from '../../lib/index.js';
import { createApp, RecordingLogger, type TestApp } from '../support/create-app.js';

@Event('payment.captured')
class PaymentCaptured {
  constructor(readonly amount: number) {}
}

/** Two handlers of one event: the ledger fails while `broken`, the receipt always succeeds. */
@Injectable()
class Listeners {
  broken = true;
  readonly ledger: EventEnvelope[] = [];
  readonly receipts: EventEnvelope[] = [];

  @OnEvent('payment.captured', { retry: { attempts: 2 } })
  record(_: PaymentCaptured, envelope: EventEnvelope) {
    this.ledger.push(envelope);
    if (this.broken) throw new Error('ledger offline');
  }

  @OnEvent(PaymentCaptured)
  sendReceipt(_: PaymentCaptured, envelope: EventEnvelope) {
    this.receipts.push(envelope);
  }

  @OnEvent('refund.requested')
  refund() {
    throw new Error('refunds disabled');
  }
}

describe('DeadLetters (in-process store)', () => {
  let app: TestApp;
  let logs: RecordingLogger;

  beforeEach(async () => {
    logs = new RecordingLogger();
    app = await createApp({ providers: [Listeners] }, { logger: logs });
  });
  afterEach(() => app.close());

  async function failOnePayment() {
    const envelope = app.events.publish(new PaymentCaptured(42), { headers: { tenant: 't1' } });
    await app.bus.drain();
    return envelope;
  }

  it('lists and gets a dead letter with its payload, headers, error and attempts', async () => {
    const envelope = await failOnePayment();
    const letters = app.get(DeadLetters);
    const [letter] = await letters.list();
    expect(letter).toEqual(
      expect.objectContaining({
        eventId: envelope.id,
        event: 'payment.captured',
        handler: 'Listeners.record',
        reason: 'handler-failed',
        error: 'Error: ledger offline',
        attempts: 2,
        payload: expect.objectContaining({ amount: 42 }),
        headers: { tenant: 't1' },
        redrivable: true,
      }),
    );
    expect(await letters.get(letter.id)).toEqual(letter);
    expect(await letters.get('no-such-id')).toBeUndefined();
    expect(letters.source).toBe('memory');
  });

  it('filters by event, handler, reason and time', async () => {
    const before = new Date(Date.now() - 1000);
    await failOnePayment();
    app.events.publish('refund.requested', { id: 1 });
    await app.bus.drain();
    const letters = app.get(DeadLetters);
    expect((await letters.list()).map((l) => l.event)).toEqual(['refund.requested', 'payment.captured']);
    expect((await letters.list({ event: 'refund.requested' })).map((l) => l.handler)).toEqual(['Listeners.refund']);
    expect((await letters.list({ handler: 'Listeners.record' })).map((l) => l.event)).toEqual(['payment.captured']);
    expect(await letters.list({ reason: 'malformed' })).toEqual([]);
    expect(await letters.list({ since: before })).toHaveLength(2);
    expect(await letters.list({ until: before })).toEqual([]);
    expect(await letters.list({ limit: 1 })).toHaveLength(1);
    await expect(letters.list({ limit: 0 })).rejects.toThrow(InvalidDeadLetterQueryError);
    await expect(letters.list({ since: 'yesterday' as unknown as Date })).rejects.toThrow(/`since` must be a valid Date/);
  });

  it('redrives to the failed handler only, as a fresh delivery with a header linking to the dead letter, once', async () => {
    await failOnePayment();
    const listeners = app.get(Listeners);
    const letters = app.get(DeadLetters);
    const [letter] = await letters.list();
    listeners.broken = false;
    listeners.ledger.length = 0;

    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'delivered' });
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'already-redriven' });

    expect(listeners.ledger).toHaveLength(1);
    const [redriven] = listeners.ledger;
    expect(redriven.attempt).toBe(1);
    expect(redriven.headers).toEqual({ tenant: 't1', [REDRIVE_OF_HEADER]: letter.id });
    expect(redriven.payload).toBeInstanceOf(PaymentCaptured);
    // The receipt had succeeded: not sent again.
    expect(listeners.receipts).toHaveLength(1);
    expect(await letters.list()).toEqual([]);
    expect(logs.messages('log')).toContainEqual(`Redrive of dead letter ${letter.id} (payment.captured -> Listeners.record): delivered`);
    expect(logs.messages('log')).toContainEqual(`Redrive of dead letter ${letter.id}: already-redriven`);
  });

  it('two redrives at once deliver once', async () => {
    await failOnePayment();
    const listeners = app.get(Listeners);
    const letters = app.get(DeadLetters);
    const [letter] = await letters.list();
    listeners.broken = false;
    listeners.ledger.length = 0;
    const outcomes = (await Promise.all([letters.redrive(letter.id), letters.redrive(letter.id)])).map((r) => r.outcome);
    expect(outcomes.sort()).toEqual(['already-redriven', 'delivered']);
    expect(listeners.ledger).toHaveLength(1);
  });

  it('a redrive that fails again replaces the dead letter with a new one, with a new attempt count', async () => {
    await failOnePayment();
    const letters = app.get(DeadLetters);
    const [letter] = await letters.list();
    const result = await letters.redrive(letter.id);
    expect(result).toEqual({ id: letter.id, outcome: 'failed-again', newDeadLetterId: expect.any(String) });
    const all = await letters.list();
    expect(all).toHaveLength(1);
    expect(all[0]).toEqual(expect.objectContaining({ id: result.newDeadLetterId, redriveOf: letter.id, attempts: 2, handler: 'Listeners.record' }));
    // Redriving the new one works once the ledger is back.
    app.get(Listeners).broken = false;
    expect((await letters.redrive(result.newDeadLetterId!)).outcome).toBe('delivered');
    expect(app.get(Listeners).receipts).toHaveLength(1);
  });

  it('redriveMany redrives a selection; purge removes by filter', async () => {
    await failOnePayment();
    await failOnePayment();
    app.events.publish('refund.requested', {});
    await app.bus.drain();
    const letters = app.get(DeadLetters);
    app.get(Listeners).broken = false;
    const results = await letters.redriveMany({ event: 'payment.captured' });
    expect(results.map((r) => r.outcome)).toEqual(['delivered', 'delivered']);
    expect((await letters.list()).map((l) => l.event)).toEqual(['refund.requested']);
    expect(await letters.purge({ handler: 'Nobody.here' })).toBe(0);
    expect(await letters.purge()).toBe(1);
    expect(await letters.list()).toEqual([]);
    expect(logs.messages('log')).toContainEqual('Purged 1 dead letters.');
  });

  it('is one per bus, however many modules import EventBusModule', async () => {
    @Injectable()
    class HolderA {
      constructor(readonly deadLetters: DeadLetters) {}
    }
    @Injectable()
    class HolderB {
      constructor(readonly deadLetters: DeadLetters) {}
    }
    @Module({ imports: [EventBusModule.forRoot({ global: false, logger: false })], providers: [Listeners, HolderA] })
    class FeatureA {}
    // The same options in another order: one bus, but a distinct module instance for Nest.
    @Module({ imports: [EventBusModule.forRoot({ logger: false, global: false })], providers: [HolderB] })
    class FeatureB {}
    const moduleRef = await Test.createTestingModule({ imports: [FeatureA, FeatureB] }).compile();
    const two = await moduleRef.createNestApplication({ logger: false }).init();
    try {
      const a = two.get(HolderA).deadLetters;
      const b = two.get(HolderB).deadLetters;
      expect(a).toBe(b);
      two.get(EventPublisher, { strict: false }).publish('refund.requested', {});
      await two.get(EventBus, { strict: false }).drain();
      const [letter] = await a.list();
      expect(await b.redrive(letter.id)).toEqual(expect.objectContaining({ outcome: 'failed-again' }));
      expect((await a.redrive(letter.id)).outcome).toBe('already-redriven');
    } finally {
      await two.close();
    }
  });

  it('keeps at most 1000 dead letters, forgetting the oldest', async () => {
    for (let i = 0; i < 1005; i++) app.events.publish('refund.requested', { i });
    await app.bus.drain();
    const all = await app.get(DeadLetters).list({ limit: 2000 });
    expect(all).toHaveLength(1000);
    expect(all[0].payload).toEqual({ i: 1004 });
    expect(all[999].payload).toEqual({ i: 5 });
  });
});
