/**
 * The load test in small (the 100,000-event run with events/s is `npm run bench:outbox`): events
 * written in many transactions go outbox → two relays → NATS JetStream → a consumer group's inbox
 * handler; none lost, no effect twice, each event once in the stream.
 */
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { PoolClient } from 'pg';
import { EventBusModule, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { NatsJetStreamTransport } from '../../lib/nats/index.js';
import { Outbox, OutboxModule, inbox } from '../../lib/outbox/index.js';
import { deleteStreams, describeWithNats, NATS_URL, rawConnection, streamMessageCount, uniqueNames } from '../nats/support/nats-test-env.js';
import { DATABASE_URL, describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();
const describeNats = await describeWithNats();
const EVENTS = 2000;

describePg('outbox load (small)', () => {
  describeNats('with NATS JetStream', () => {
    const suite = setUpPostgresSuite('load');
    const names = uniqueNames('outbox_load');
    const apps: { close(): Promise<void> }[] = [];

    afterAll(async () => {
      for (const app of apps.reverse()) await app.close();
      const nc = await rawConnection();
      await deleteStreams(nc, names.stream, names.deadLetterStream);
      await nc.close();
    });

    async function start(group: string, providers: any[], relay: boolean) {
      @Module({
        imports: [
          EventBusModule.forRoot({ logger: false, transport: new NatsJetStreamTransport({ servers: NATS_URL, ...names, group }) }),
          OutboxModule.forRoot({ connection: DATABASE_URL, schema: suite.schema, logger: false, relay: relay ? { pollIntervalMs: 200 } : false }),
        ],
        providers,
      })
      class LoadModule {}
      const app = (await Test.createTestingModule({ imports: [LoadModule] }).compile()).createNestApplication({ logger: false });
      await app.init();
      apps.push(app);
      return app;
    }

    it(`moves ${EVENTS} events through two relays to an inbox handler: 0 lost, 0 duplicated effects`, async () => {
      await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
      await suite.pool.query(`CREATE TABLE ${suite.schema}.effects (event_id text NOT NULL)`);
      @Injectable()
      class Consumer {
        @OnEvent('load.event', inbox())
        async on(_payload: unknown, envelope: EventEnvelope, trx: PoolClient) {
          await trx.query(`INSERT INTO ${suite.schema}.effects VALUES ($1)`, [envelope.id]);
        }
      }
      await start('consumers', [Consumer], false);
      const writer = await start('writers', [], false);
      await start('relays', [], true);
      await start('relays', [], true);
      const outbox = writer.get(Outbox);
      const ids: string[] = [];
      const write = async (from: number) => {
        for (let start = from; start < EVENTS; start += 400) {
          await suite.inTransaction(async (client) => {
            for (let i = start; i < Math.min(EVENTS, start + 100); i++) ids.push((await outbox.publish(client, 'load.event', { i })).id);
          });
        }
      };
      await Promise.all([0, 100, 200, 300].map(write));
      expect(ids).toHaveLength(EVENTS);
      await eventually(async () => (await suite.rows(`SELECT count(*)::int AS n FROM ${suite.schema}.effects`))[0].n >= EVENTS);
      const [effects] = await suite.rows(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d FROM ${suite.schema}.effects`);
      expect(effects).toEqual({ n: EVENTS, d: EVENTS });
      const delivered = await suite.rows(`SELECT event_id FROM ${suite.schema}.effects`);
      expect(new Set(delivered.map((r) => r.event_id))).toEqual(new Set(ids));
      // Marking rows published follows the broker's ack, which precedes the consumer's effect: wait for it.
      await eventually(async () => (await outbox.counts()).pending === 0);
      expect(await outbox.counts()).toEqual({ pending: 0, published: EVENTS, dead: 0 });
      const nc = await rawConnection();
      try {
        expect(await streamMessageCount(nc, names.stream)).toBe(EVENTS);
      } finally {
        await nc.close();
      }
    }, 120_000);
  });
});
