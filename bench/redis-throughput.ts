/**
 * Redis Streams throughput: the RedisStreamsTransport inside a real Nest application versus the raw
 * ioredis client doing the same work, in the same run, against the same server.
 *
 * Both paths, per event: XADD the JSON payload (pipelined: one pipeline per event-loop turn), read it
 * with XREADGROUP COUNT 128 BLOCK on a connection of its own, parse it, run one handler, XACK it
 * (batched per read). The transport also carries the envelope (id, time, correlation) as fields and runs
 * the handler through the bus: that is the overhead measured. The clock runs from the first publish
 * until the N-th event was handled; CPU is the process's user + system time over the same span.
 * Afterwards (untimed) the group is checked to have no entry left unacknowledged.
 *
 * Run (needs Redis on 127.0.0.1:6379, or REDIS_URL):
 *   node node_modules/typescript/bin/tsc -p bench/tsconfig.redis.json
 *   node dist/bench-redis/bench/redis-throughput.js [--events 20000] [--runs 3]
 *   (--transport-only or --raw-only runs one path and prints its rate, for profiling with --cpu-prof)
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { EventBusModule, EventPublisher, OnEvent } from '../lib/index.js';
import { RedisStreamsTransport } from '../lib/redis/index.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PAYLOAD = { orderId: 123, item: 'Coffee', quantity: 2, customer: 'c-42' };
const COUNT = 128;

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

interface Sample {
  wallNs: number;
  cpuUs: number;
}

function startSample(): { stop(): Sample } {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  return {
    stop() {
      const used = process.cpuUsage(cpu);
      return { wallNs: Number(process.hrtime.bigint() - wall), cpuUs: used.user + used.system };
    },
  };
}

async function groupSettled(client: Redis, key: string, group: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const info = (await client.xinfo('GROUPS', key)) as unknown[][];
    const g = info.find((row) => row[1] === group);
    const fields = new Map<unknown, unknown>();
    for (let j = 0; g !== undefined && j < g.length; j += 2) fields.set(g[j], g[j + 1]);
    if (Number(fields.get('pending')) === 0 && Number(fields.get('lag')) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`group ${group} on ${key} still has unacknowledged entries`);
}

/**
 * The baseline: ioredis by hand, the payload in one field plus an id field (as the NATS bench's raw
 * client sets a message id); `envelopeFields` also writes the transport's other envelope fields (name,
 * time), to show what carrying the envelope costs in ioredis itself.
 */
async function runRaw(client: Redis, events: number, envelopeFields = false): Promise<Sample> {
  const key = `{bench-raw-${unique()}}:events`;
  await client.xgroup('CREATE', key, 'raw', '0', 'MKSTREAM');
  const reader = client.duplicate();
  try {
    let handled = 0;
    const sample = startSample();
    const consuming = (async () => {
      while (handled < events) {
        const reply = (await reader.xreadgroup('GROUP', 'raw', 'c', 'COUNT', COUNT, 'BLOCK', 2000, 'STREAMS', key, '>')) as [string, [string, string[]][]][] | null;
        if (reply === null) continue;
        const ids: string[] = [];
        for (const [id, fields] of reply[0][1]) {
          const payload = JSON.parse(fields[fields.length - 1]) as typeof PAYLOAD;
          if (payload.orderId === 123) handled++;
          ids.push(id);
        }
        void client.xack(key, 'raw', ...ids);
      }
    })();
    // Pipelined publishes: one pipeline per chunk, as the transport sends one per event-loop turn.
    const body = JSON.stringify(PAYLOAD);
    const prefix = unique();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < events; i += 1000) {
      const pipeline = client.pipeline();
      for (let j = i; j < Math.min(events, i + 1000); j++) {
        if (envelopeFields) pipeline.xadd(key, '*', 'id', `${prefix}-${j}`, 'name', 'order.placed', 'at', String(Date.now()), 'data', body);
        else pipeline.xadd(key, '*', 'id', `${prefix}-${j}`, 'data', body);
      }
      sends.push(pipeline.exec());
    }
    await Promise.all(sends);
    await consuming;
    const result = sample.stop();
    await groupSettled(client, key, 'raw');
    return result;
  } finally {
    reader.disconnect();
    await client.del(key);
  }
}

/** The transport: a Nest application with EventBusModule + RedisStreamsTransport and one @OnEvent handler. */
async function runTransport(client: Redis, events: number): Promise<Sample> {
  const stream = `bench-eb-${unique()}`;
  let handled = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));

  @Injectable()
  class OrderListener {
    @OnEvent('order.placed')
    onPlaced(payload: typeof PAYLOAD) {
      if (payload.orderId === 123 && ++handled === events) done();
    }
  }

  const transport = new RedisStreamsTransport({ connection: REDIS_URL, stream, group: 'bench', trim: false });
  @Module({ imports: [EventBusModule.forRoot({ transport, logger: false })], providers: [OrderListener] })
  class BenchModule {}

  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    await app.init();
    const publisher = app.get(EventPublisher);
    const sample = startSample();
    for (let i = 0; i < events; i++) publisher.publish('order.placed', PAYLOAD);
    await finished;
    const result = sample.stop();
    await groupSettled(client, `{${stream}}:events`, 'bench');
    return result;
  } finally {
    await app?.close();
    await client.del(`{${stream}}:events`, `{${stream}}:dead-letters`);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const format = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const events = option('events', 20_000);
  const runs = option('runs', 3);
  const client = new Redis(REDIS_URL);
  try {
    const warm = Math.min(events, 2000);
    if (process.argv.includes('--raw-only') || process.argv.includes('--transport-only')) {
      // For profiling one path alone (node --cpu-prof ...).
      const run = process.argv.includes('--raw-only') ? (n: number) => runRaw(client, n) : (n: number) => runTransport(client, n);
      await run(warm);
      const { wallNs, cpuUs } = await run(events);
      console.log(`${format(events / (wallNs / 1e9))} events/s, ${(cpuUs / events).toFixed(1)} CPU µs/event`);
      return;
    }
    await runRaw(client, warm);
    await runTransport(client, warm);
    const raw: Sample[] = [];
    const rawEnvelope: Sample[] = [];
    const transport: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      const order = [
        async () => raw.push(await runRaw(client, events)),
        async () => rawEnvelope.push(await runRaw(client, events, true)),
        async () => transport.push(await runTransport(client, events)),
      ];
      for (let i = 0; i < order.length; i++) await order[(i + run) % order.length]();
    }
    const rate = (ns: number) => events / (ns / 1e9);
    const wall = (samples: Sample[]) => samples.map((s) => s.wallNs);
    const cpuPerEvent = (samples: Sample[]) => median(samples.map((s) => s.cpuUs)) / events;
    const range = (samples: Sample[]) => `${format(rate(Math.max(...wall(samples))))}–${format(rate(Math.min(...wall(samples))))}`;
    const row = (label: string, samples: Sample[]) =>
      `| ${label} | ${format(rate(median(wall(samples))))} | ${range(samples)} | ${format(median(wall(samples)) / 1e6)} | ${cpuPerEvent(samples).toFixed(1)} |`;
    const version = /redis_version:([\d.]+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
    console.log(
      [
        `| Path (${format(events)} events, publish → handled → ack, median of ${runs}) | events/s | range | ms | CPU µs/event |`,
        '|---|---:|---:|---:|---:|',
        row('raw `ioredis` (pipelined XADD of id + payload, XREADGROUP COUNT 128, batched XACK)', raw),
        row('raw `ioredis`, same, writing the envelope fields the transport writes (id, name, at, data)', rawEnvelope),
        row('`RedisStreamsTransport` in a Nest app (`@OnEvent` handler)', transport),
        '',
        `Transport / raw throughput: **${((median(wall(raw)) / median(wall(transport))) * 100).toFixed(0)}%** (target ≥ 80%), ` +
          `${((median(wall(rawEnvelope)) / median(wall(transport))) * 100).toFixed(0)}% of the raw client writing the same fields; ` +
          `CPU per event ${(cpuPerEvent(transport) / cpuPerEvent(raw)).toFixed(2)}× the raw client's. ` +
          `Redis ${version} at ${REDIS_URL}, Node ${process.version}, load average ${loadavg()[0].toFixed(2)} at the end.`,
      ].join('\n'),
    );
  } finally {
    await client.quit();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
