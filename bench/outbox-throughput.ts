/**
 * Outbox → NATS JetStream load test, against a bare "INSERT, commit, then publish" loop in the same run.
 *
 * Both paths do the same business work per event: an INSERT of an order row, committed in transactions
 * of TX_SIZE events (WRITERS transactions at once), and the event reaching a consumer group whose
 * inbox handler (`inbox()`: the (event id, handler) record plus one effect row, in one transaction)
 * runs once per event. The outbox path writes the event into the outbox in the same transaction and
 * two relays (two Nest applications, each with its own pool) move it to JetStream; the bare path calls
 * publishAndWait (JetStream ack) after each commit: the dual write the outbox replaces. The clock runs
 * from the first transaction until the consumer's N-th effect is committed. Afterwards (untimed) it
 * checks: N distinct effects, no event with two effects, N messages in the stream, no pending row.
 *
 * Run (PostgreSQL on 127.0.0.1:5432 db test, nats-server -js on 127.0.0.1:4222; or DATABASE_URL / NATS_URL):
 *   npm run bench:outbox -- [--events 100000] [--batch 100]
 *   (compiles with bench/tsconfig.outbox.json into dist/bench-outbox/)
 * Prints a markdown table on stdout; exits non-zero when an event was lost or duplicated.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { EventBus, EventBusModule, OnEvent, type EventEnvelope } from '../lib/index.js';
import { NatsJetStreamTransport } from '../lib/nats/index.js';
import { Outbox, OutboxModule, applyOutboxMigrations, inbox } from '../lib/outbox/index.js';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const TX_SIZE = 100;
const WRITERS = 4;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

const EVENTS = option('events', 100_000);
const RELAY_BATCH = option('batch', 100);
const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const schema = `ebb_outbox_${suffix}`;

/** Resolves when the effects table holds `target` rows (checked by counting, every 100ms). */
async function effectsReach(pool: pg.Pool, table: string, target: number): Promise<void> {
  for (;;) {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${table}`);
    if (rows[0].n >= target) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function consumerModule(stream: string, effects: string) {
  @Injectable()
  class ShippingListener {
    @OnEvent('order.placed', inbox())
    async ship(order: { orderId: number }, envelope: EventEnvelope, trx: pg.PoolClient) {
      await trx.query(`INSERT INTO ${effects} (event_id, order_id) VALUES ($1, $2)`, [envelope.id, order.orderId]);
    }
  }
  @Module({
    imports: [
      EventBusModule.forRoot({ logger: false, transport: new NatsJetStreamTransport({ servers: NATS_URL, stream, group: 'shipping' }) }),
      OutboxModule.forRoot({ connection: { connectionString: DATABASE_URL, max: 20 }, schema, migrate: false, relay: false, logger: false }),
    ],
    providers: [ShippingListener],
  })
  class ConsumerModule {}
  return ConsumerModule;
}

function producerModule(stream: string, relay: boolean) {
  @Module({
    imports: [
      EventBusModule.forRoot({ logger: false, transport: new NatsJetStreamTransport({ servers: NATS_URL, stream, group: 'orders' }) }),
      OutboxModule.forRoot({
        connection: { connectionString: DATABASE_URL, max: 8 },
        schema,
        migrate: false,
        logger: false,
        relay: relay ? { batchSize: RELAY_BATCH } : false,
      }),
    ],
  })
  class ProducerModule {}
  return ProducerModule;
}

async function start(module: unknown): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(module as never, { logger: false });
  await app.init();
  return app;
}

/** WRITERS concurrent writers, each committing transactions of TX_SIZE orders; `each` runs inside the transaction, `after` after commit. */
async function writeOrders(
  pool: pg.Pool,
  table: string,
  each: (client: pg.PoolClient, orderId: number) => Promise<unknown>,
  after?: (orderIds: number[]) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const writer = async () => {
    const client = await pool.connect();
    try {
      for (;;) {
        const first = next;
        if (first >= EVENTS) return;
        next += TX_SIZE;
        const ids: number[] = [];
        await client.query('BEGIN');
        for (let orderId = first; orderId < Math.min(EVENTS, first + TX_SIZE); orderId++) {
          await client.query(`INSERT INTO ${table} (order_id, item) VALUES ($1, $2)`, [orderId, 'coffee']);
          await each(client, orderId);
          ids.push(orderId);
        }
        await client.query('COMMIT');
        await after?.(ids);
      }
    } finally {
      client.release();
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}

interface Result {
  path: string;
  /** Until the writers committed their last transaction (the bare path: and published it). */
  writtenSeconds: number;
  /** Until every event was acknowledged by JetStream. */
  publishedSeconds: number;
  /** Until the consumer committed the N-th effect. */
  seconds: number;
  effects: number;
  duplicates: number;
  streamMessages: number;
}

async function check(pool: pg.Pool, effects: string, stream: string, path: string, writtenSeconds: number, publishedSeconds: number, seconds: number): Promise<Result> {
  const { rows } = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS d, count(DISTINCT order_id)::int AS o FROM ${effects}`);
  const nc = await connect({ servers: NATS_URL });
  const info = await (await jetstreamManager(nc)).streams.info(stream);
  await nc.close();
  return { path, writtenSeconds, publishedSeconds, seconds, effects: rows[0].o, duplicates: rows[0].n - rows[0].d, streamMessages: info.state.messages };
}

async function outboxPath(pool: pg.Pool): Promise<Result> {
  const stream = `EBB_OUTBOX_${suffix}`;
  const effects = `${schema}.effects_outbox`;
  await pool.query(`CREATE TABLE ${schema}.orders_outbox (order_id int PRIMARY KEY, item text NOT NULL)`);
  await pool.query(`CREATE TABLE ${effects} (event_id text NOT NULL, order_id int NOT NULL)`);
  const consumer = await start(consumerModule(stream, effects));
  const writer = await start(producerModule(stream, false));
  const relays = [await start(producerModule(stream, true)), await start(producerModule(stream, true))];
  const outbox = writer.get(Outbox);
  const began = process.hrtime.bigint();
  await writeOrders(pool, `${schema}.orders_outbox`, (client, orderId) => outbox.publish(client, 'order.placed', { orderId }));
  const writtenSeconds = Number(process.hrtime.bigint() - began) / 1e9;
  while ((await outbox.counts()).pending !== 0) await new Promise((resolve) => setTimeout(resolve, 100));
  const publishedSeconds = Number(process.hrtime.bigint() - began) / 1e9;
  await effectsReach(pool, effects, EVENTS);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  const counts = await outbox.counts();
  for (const app of [...relays, writer, consumer]) await app.close();
  const result = await check(pool, effects, stream, 'outbox → 2 relays → NATS → inbox handler', writtenSeconds, publishedSeconds, seconds);
  if (counts.pending !== 0 || counts.dead !== 0) throw new Error(`outbox left rows behind: ${JSON.stringify(counts)}`);
  return result;
}

async function barePath(pool: pg.Pool): Promise<Result> {
  const stream = `EBB_BARE_${suffix}`;
  const effects = `${schema}.effects_bare`;
  await pool.query(`CREATE TABLE ${schema}.orders_bare (order_id int PRIMARY KEY, item text NOT NULL)`);
  await pool.query(`CREATE TABLE ${effects} (event_id text NOT NULL, order_id int NOT NULL)`);
  const consumer = await start(consumerModule(stream, effects));
  const producer = await start(producerModule(stream, false));
  const bus = producer.get(EventBus);
  const began = process.hrtime.bigint();
  await writeOrders(
    pool,
    `${schema}.orders_bare`,
    async () => undefined,
    (orderIds) => Promise.all(orderIds.map((orderId) => bus.publishAndWait('order.placed', { orderId }))),
  );
  const publishedSeconds = Number(process.hrtime.bigint() - began) / 1e9;
  await effectsReach(pool, effects, EVENTS);
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  for (const app of [producer, consumer]) await app.close();
  return check(pool, effects, stream, 'bare INSERT + commit + publishAndWait → NATS → inbox handler', publishedSeconds, publishedSeconds, seconds);
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: WRITERS + 2 });
  await applyOutboxMigrations(pool, { schema });
  const results: Result[] = [];
  try {
    results.push(await barePath(pool));
    results.push(await outboxPath(pool));
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    const nc = await connect({ servers: NATS_URL });
    const jsm = await jetstreamManager(nc);
    for (const s of [`EBB_OUTBOX_${suffix}`, `EBB_BARE_${suffix}`]) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await pool.end();
  }
  const bare = results[0];
  console.log(`\nOutbox load test: ${EVENTS} events, transactions of ${TX_SIZE}, ${WRITERS} writers, relay batch ${RELAY_BATCH}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('| path | written: events/s | published in JetStream: events/s (vs bare) | handled by the consumer: events/s (vs bare) | effects | duplicated effects | stream messages |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    const published = EVENTS / r.publishedSeconds;
    const handled = EVENTS / r.seconds;
    console.log(
      `| ${r.path} | ${Math.round(EVENTS / r.writtenSeconds)} | ${Math.round(published)} (${(published / (EVENTS / bare.publishedSeconds)).toFixed(2)}) | ` +
        `${Math.round(handled)} (${(handled / (EVENTS / bare.seconds)).toFixed(2)}) | ${r.effects} | ${r.duplicates} | ${r.streamMessages} |`,
    );
  }
  const broken = results.filter((r) => r.effects !== EVENTS || r.duplicates !== 0 || r.streamMessages !== EVENTS);
  if (broken.length !== 0) {
    console.error(`LOST OR DUPLICATED: ${broken.map((r) => r.path).join('; ')}`);
    process.exitCode = 1;
  }
}

await main();
