/** `DeadLetters` (list, get, redrive once, purge) over the Redis Streams transport's dead-letter stream. */
import 'reflect-metadata';
import { Injectable, Module, type INestApplication, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DeadLetters, EventBusModule, EventPublisher, OnEvent, REDRIVE_OF_HEADER, type EventEnvelope } from '../../lib/index.js';
import { RedisStreamsTransport } from '../../lib/redis/index.js';
import { deleteStreamKeys, describeWithRedis, rawClient, REDIS_URL, uniqueStream } from './support/redis-test-env.js';

const describeRedis = await describeWithRedis('dead-letters.spec.ts');
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

async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}

describeRedis('DeadLetters over Redis Streams', () => {
  const client = rawClient();
  const apps: INestApplication[] = [];
  const streams: string[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    for (const s of streams) {
      await deleteStreamKeys(client, s);
      const claims = await client.keys(`{${s}}:redriven:*`);
      if (claims.length !== 0) await client.del(...claims);
    }
    await client.quit();
  });

  async function startApp(stream: string, group: string, providers: Provider[]): Promise<INestApplication> {
    const transport = new RedisStreamsTransport({ connection: REDIS_URL, stream, group, maxDeliveries: 1, signingKey, blockMs: 300 });
    @Module({ imports: [EventBusModule.forRoot({ logger: false, transport })], providers })
    class DeadLettersTestModule {}
    const app = (await Test.createTestingModule({ imports: [DeadLettersTestModule] }).compile()).createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  async function start() {
    const stream = uniqueStream('dl');
    streams.push(stream);
    const billing = await startApp(stream, 'billing', [Ledger, Receipts]);
    return { stream, billing, letters: billing.get(DeadLetters) };
  }

  it('lists, gets and redrives a dead letter to the failed handler only, once', async () => {
    const { billing, letters } = await start();
    expect(letters.source).toBe('redis');
    const envelope = billing.get(EventPublisher).publish('invoice.paid', { invoice: 7 }, { headers: { tenant: 't1' } });
    await eventually(async () => (await letters.list()).length === 1);
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
    const ledger = billing.get(Ledger);
    ledger.broken = false;
    ledger.seen.length = 0;
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'delivered' });
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'already-redriven' });
    expect(ledger.seen).toHaveLength(1);
    expect(ledger.seen[0].headers).toEqual({ tenant: 't1', [REDRIVE_OF_HEADER]: letter.id });
    expect(billing.get(Receipts).seen).toHaveLength(1);
    expect(await letters.list()).toEqual([]);
  });

  it('two instances redriving the same dead letter at once deliver it once', async () => {
    const { stream, billing, letters } = await start();
    const other = await startApp(stream, 'billing', [Ledger, Receipts]);
    billing.get(EventPublisher).publish('invoice.paid', { invoice: 8 });
    await eventually(async () => (await letters.list()).length === 1);
    const [letter] = await letters.list();
    billing.get(Ledger).broken = false;
    other.get(Ledger).broken = false;
    const before = billing.get(Ledger).seen.length + other.get(Ledger).seen.length;
    const outcomes = await Promise.all([letters.redrive(letter.id), other.get(DeadLetters).redrive(letter.id)]);
    expect(outcomes.map((o) => o.outcome).sort()).toEqual(['already-redriven', 'delivered']);
    expect(billing.get(Ledger).seen.length + other.get(Ledger).seen.length - before).toBe(1);
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

  it('an unsigned entry is listed with its reason and is not redrivable', async () => {
    const { stream, letters } = await start();
    await client.xadd(`{${stream}}:events`, '*', 'id', 'unsigned-1', 'name', 'invoice.paid', 'at', String(Date.now()), 'data', '{"invoice":666}');
    await eventually(async () => (await letters.list({ reason: 'unsigned' })).length === 1);
    const [letter] = await letters.list({ reason: 'unsigned' });
    expect(letter).toEqual(expect.objectContaining({ redrivable: false, reason: 'unsigned' }));
    expect(await letters.redrive(letter.id)).toEqual({ id: letter.id, outcome: 'not-redrivable', detail: expect.stringContaining('cannot be read as an event') });
    expect(await letters.purge()).toBe(1);
  });
});
