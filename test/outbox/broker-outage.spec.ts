/**
 * Outbox → NATS JetStream with the broker down, then up again (a private nats-server this test stops
 * and restarts): every event reaches the stream, each once (same event id: JetStream's dedupe window
 * drops a re-sent copy), in key order; a consumer with an inbox handler has one effect per event.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { PoolClient } from 'pg';
import { EventBusModule, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { NatsJetStreamTransport } from '../../lib/nats/index.js';
import { Outbox, OutboxModule, inbox } from '../../lib/outbox/index.js';
import { rawConnection, storedMessages, uniqueNames } from '../nats/support/nats-test-env.js';
import { natsServerBinaryAvailable, PrivateNatsServer } from '../nats/support/private-nats-server.js';
import { DATABASE_URL, describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();
const withServerBinary = natsServerBinaryAvailable() || process.env.CI === 'true' ? it : it.skip;
if (!natsServerBinaryAvailable() && process.env.CI !== 'true') {
  process.stderr.write('Skipping the outbox broker-outage test: no nats-server binary (set NATS_SERVER_BIN).\n');
}

describePg('outbox relay: broker down, then up', () => {
  const suite = setUpPostgresSuite('outage');
  let server: PrivateNatsServer | undefined;
  const apps: { close(): Promise<void> }[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
    await server?.dispose();
    server = undefined;
  });

  async function startApp(url: string, names: ReturnType<typeof uniqueNames>, group: string, providers: any[], relay: boolean) {
    const transport = new NatsJetStreamTransport({ servers: url, ...names, group, pullExpiresMs: 1000 });
    @Module({
      imports: [
        EventBusModule.forRoot({ logger: false, transport }),
        OutboxModule.forRoot({
          connection: DATABASE_URL,
          schema: suite.schema,
          logger: false,
          relay: relay ? { pollIntervalMs: 100, publishTimeoutMs: 500, leaseMs: 2000, backoff: { initialDelayMs: 100, maxDelayMs: 400 }, maxAttempts: 1000 } : false,
        }),
      ],
      providers,
    })
    class AppModule {}
    const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  withServerBinary('delivers every event written during the outage, once each, in key order', async () => {
    server = await PrivateNatsServer.start();
    const names = uniqueNames('outbox_outage');
    await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
    await suite.pool.query(`CREATE TABLE IF NOT EXISTS ${suite.schema}.effects (event_id text NOT NULL, key text NOT NULL)`);

    @Injectable()
    class ShippingListener {
      @OnEvent('order.step', inbox())
      async on(payload: { key: string }, envelope: EventEnvelope, trx: PoolClient) {
        await trx.query(`INSERT INTO ${suite.schema}.effects VALUES ($1, $2)`, [envelope.id, payload.key]);
      }
    }
    const relayApp = await startApp(server.url, names, 'orders', [], true);
    await startApp(server.url, names, 'shipping', [ShippingListener], false);
    const outbox = relayApp.get(Outbox);

    const before = await suite.inTransaction((client) => outbox.publish(client, 'order.step', { key: 'k0', n: -1 }, { key: 'k0' }));
    await eventually(async () => (await outbox.counts()).published === 1);

    await server.stop();
    const ids: { id: string; key: string }[] = [];
    for (let batch = 0; batch < 6; batch++) {
      await suite.inTransaction(async (client) => {
        for (let n = 0; n < 10; n++) {
          const key = `k${n % 3}`;
          ids.push({ id: (await outbox.publish(client, 'order.step', { key, n: batch * 10 + n }, { key })).id, key });
        }
      });
    }
    // The relay tried and failed while the broker was away.
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_outbox WHERE attempts > 0 LIMIT 1`)).length === 1);
    await server.restart();
    await eventually(async () => (await outbox.counts()).pending === 0);

    const nc = await rawConnection(server.url);
    try {
      const stored = await storedMessages(nc, names.stream);
      const storedIds = stored.map((m) => m.header.get('Nats-Msg-Id'));
      expect(storedIds).toEqual(expect.arrayContaining([before.id, ...ids.map((e) => e.id)]));
      expect(new Set(storedIds).size).toBe(storedIds.length); // no event twice in the stream
      for (const key of ['k0', 'k1', 'k2']) {
        const expected = ids.filter((e) => e.key === key).map((e) => e.id);
        expect(storedIds.filter((id) => expected.includes(id!))).toEqual(expected);
      }
    } finally {
      await nc.close();
    }
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${suite.schema}.effects`)).length >= ids.length + 1);
    const effects = await suite.rows(`SELECT event_id, count(*)::int AS n FROM ${suite.schema}.effects GROUP BY event_id`);
    expect(effects).toHaveLength(ids.length + 1);
    expect(effects.every((e) => e.n === 1)).toBe(true);
  }, 90_000);
});
