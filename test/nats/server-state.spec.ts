// Issue 13 item 7: what an earlier deployment or an operator left on the server. Existing consumers and
// streams with other settings are updated or refused (never reused silently); a deleted consumer or
// dead-letter stream is created again; a dead-letter stream refusing writes does not block good messages.
import { Injectable } from '@nestjs/common';
import { AckPolicy, DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { DEAD_LETTER_HEADER, NatsHealthIndicator, NatsTransportConfigError } from '../../lib/nats/index.js';
import { describeWithNats, eventually, Progress, startApp, storedMessages, transport } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

@Injectable()
class BrokenListener {
  readonly calls = new Progress();
  @OnEvent('stock.counted')
  handle() {
    this.calls.add();
    throw new Error('the warehouse is on fire');
  }
}

@Injectable()
class CountingListener {
  readonly handled: string[] = [];
  readonly progress = new Progress();
  @OnEvent('stock.counted')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope.id);
    this.progress.add();
  }
}

/** A message of the event stream that is not a valid envelope (dead-lettered as malformed). */
function malformed(id: string) {
  const h = headers();
  h.set('Nats-Msg-Id', id);
  return h;
}

describeNats('NATS JetStream transport: streams and consumers found on the server', () => {
  const suite = setUpNatsSuite('state');

  async function precreate(n: ReturnType<typeof suite.names>, consumer: Record<string, unknown>, stream: Record<string, unknown> = {}) {
    const jsm = await jetstreamManager(suite.nc);
    await jsm.streams.add({ name: n.stream, subjects: [`${n.subjectPrefix}.>`], ...stream });
    await jsm.consumers.add(n.stream, { durable_name: 'stock', ack_policy: AckPolicy.Explicit, filter_subject: `${n.subjectPrefix}.>`, ...consumer });
    return jsm;
  }

  it('updates a consumer whose server max_deliver and backoff would drop or delay failing messages: they are dead-lettered after maxDeliveries', async () => {
    const n = suite.names();
    const jsm = await precreate(n, { max_deliver: 2, backoff: [nanos(20_000)] });
    const app = await suite.startApp(transport(n, 'stock', { maxDeliveries: 3, backoff: { initialDelayMs: 50 } }), [BrokenListener]);
    const { config } = await jsm.consumers.info(n.stream, 'stock');
    expect(config.max_deliver).toBe(-1);
    expect(config.backoff ?? []).toEqual([]);

    const published = app.get(EventPublisher).publish('stock.counted', { sku: 'A-1' });
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 1);
    const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('handler-failed');
    expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe(published.id);
    expect(letter.header.get(DEAD_LETTER_HEADER.deliveries)).toBe('3');
    expect(app.get(BrokenListener).calls.value).toBe(3);
  });

  it('refuses a consumer with another ack policy or filter, and a stream with another retention, naming what to change', async () => {
    const ackAll = suite.names();
    await precreate(ackAll, { ack_policy: AckPolicy.All });
    await expect(startApp(transport(ackAll, 'stock'), [CountingListener])).rejects.toThrow(NatsTransportConfigError);
    await expect(startApp(transport(ackAll, 'stock'), [CountingListener])).rejects.toThrow(/ack policy "all".*nats consumer rm/);

    const filtered = suite.names();
    await precreate(filtered, { filter_subject: `${filtered.subjectPrefix}.stock.counted` });
    await expect(startApp(transport(filtered, 'stock'), [CountingListener])).rejects.toThrow(/filters \[".*stock\.counted"\]/);

    const workQueue = suite.names();
    await precreate(workQueue, {}, { retention: RetentionPolicy.Workqueue });
    await expect(startApp(transport(workQueue, 'stock'), [CountingListener])).rejects.toThrow(/retention "workqueue".*expects retention "limits"/);

    const discardNew = suite.names();
    await precreate(discardNew, {}, { discard: DiscardPolicy.New });
    await expect(startApp(transport(discardNew, 'stock'), [CountingListener])).rejects.toThrow(/discard "new"/);
  });

  it('creates the consumer again when it is deleted on the server, and keeps consuming', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'stock'), [CountingListener]);
    await app.get(EventPublisher).publishAndWait('stock.counted', { n: 1 });
    await app.get(CountingListener).progress.reach(1);

    await (await jetstreamManager(suite.nc)).consumers.delete(n.stream, 'stock');
    await app.get(EventPublisher).publishAndWait('stock.counted', { n: 2 });
    await app.get(CountingListener).progress.reach(2);
  }, 30_000);

  it('creates the dead-letter stream again when it is deleted', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'stock', { maxDeliveries: 1, deadLetterTimeoutMs: 500 }), [BrokenListener]);
    await (await jetstreamManager(suite.nc)).streams.delete(n.deadLetterStream);
    const published = app.get(EventPublisher).publish('stock.counted', { sku: 'B-2' });
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream).catch(() => [])).length === 1);
    const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe(published.id);
  }, 30_000);

  it('gives back messages it cannot dead-letter (the dead-letter stream refuses writes): good ones keep flowing, health says down', async () => {
    const n = suite.names();
    const t = transport(n, 'stock', { concurrency: 2, deadLetterTimeoutMs: 300 });
    const app = await suite.startApp(t, [CountingListener]);
    // The dead-letter stream is full and refuses more.
    const jsm = await jetstreamManager(suite.nc);
    const { config } = await jsm.streams.info(n.deadLetterStream);
    await jsm.streams.update(n.deadLetterStream, { ...config, max_msgs: 1, discard: DiscardPolicy.New });
    await jetstream(suite.nc).publish(`${n.deadLetterSubject}.other`, 'filler');

    const js = jetstream(suite.nc);
    await js.publish(`${n.subjectPrefix}.stock.counted`, '{}', { headers: malformed('bad-1') });
    await js.publish(`${n.subjectPrefix}.stock.counted`, '{}', { headers: malformed('bad-2') });
    const good = 20;
    for (let i = 0; i < good; i++) app.get(EventPublisher).publish('stock.counted', { i });
    await app.get(CountingListener).progress.reach(good);

    const health = new NatsHealthIndicator(t);
    await eventually(() => health.check().nats.status === 'down');
    expect(health.check().nats.deadLetterError).toMatch(/could not dead-letter/);
    // Once the stream takes writes again, the two are dead-lettered and health is up.
    await jsm.streams.update(n.deadLetterStream, { ...config, max_msgs: -1, discard: DiscardPolicy.Old });
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 3);
    await eventually(() => health.check().nats.status === 'up');
  }, 40_000);
});
