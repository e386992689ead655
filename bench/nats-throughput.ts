/**
 * NATS JetStream throughput: the NatsJetStreamTransport inside a real Nest application versus the raw
 * @nats-io JetStream client, in the same run, against the same server.
 *
 * Both paths do the same work per event: publish JSON with a message id to JetStream and wait for the
 * server's acknowledgement (at most WINDOW publishes awaiting an acknowledgement at once), pull it from a
 * durable consumer, parse it, run one handler, acknowledge it. The transport also carries the envelope
 * (time, correlation, ...) in headers and runs the handler through the bus: that is the overhead measured.
 * The raw client runs twice: with a default connection, and with `noAsyncTraces` as the transport sets on
 * its own connections (the strict baseline: the default client spends much of its CPU capturing stack
 * traces per request). The clock runs from the first publish until the N-th event was handled; the CPU
 * column is the process's user + system time over the same span (steadier on a shared machine).
 * Afterwards (untimed) the consumer is checked to have no message left unacknowledged.
 *
 * Run (needs nats-server with JetStream on 127.0.0.1:4222, or NATS_URL):
 *   node node_modules/typescript/bin/tsc -p bench/tsconfig.nats.json
 *   node dist/bench-nats/bench/nats-throughput.js [--events 20000] [--runs 3]
 *   (--transport-only or --raw-only runs one path and prints its rate, for profiling with --cpu-prof)
 * Prints a markdown table on stdout; exits non-zero only on error (not when under the 80% target).
 */
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AckPolicy, jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, nanos, type NatsConnection } from '@nats-io/transport-node';
import { EventBusModule, EventPublisher, OnEvent } from '../lib/index.js';
import { NatsJetStreamTransport } from '../lib/nats/index.js';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
/** Publishes awaiting the server's acknowledgement at once: the transport's default maxPendingPublishes. */
const WINDOW = 512;
const PAYLOAD = { orderId: 123, item: 'Coffee', quantity: 2, customer: 'c-42' };

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer`);
  return value;
}

function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Wall time, and the process's CPU time (user + system: steadier than wall time on a shared machine). */
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

/** Resolves when `hit()` was called `target` times. */
class Countdown {
  private left: number;
  private done!: () => void;
  readonly finished: Promise<void>;
  constructor(target: number) {
    this.left = target;
    this.finished = new Promise((resolve) => (this.done = resolve));
  }
  readonly hit = (): void => {
    if (--this.left === 0) this.done();
  };
}

async function consumerSettled(jsm: JetStreamManager, stream: string, consumer: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const info = await jsm.consumers.info(stream, consumer);
    if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`consumer ${consumer} on ${stream} still has unacknowledged messages`);
}

/**
 * Publishes `count` messages with at most WINDOW awaiting acknowledgement, each with a message id for
 * JetStream's de-duplication (what a production publisher sets, and what the transport sets).
 */
async function publishWindowed(js: JetStreamClient, subject: string, count: number): Promise<void> {
  let next = 0;
  const prefix = uniqueSuffix();
  const lane = async () => {
    while (next < count) {
      const id = `${prefix}-${next++}`;
      await js.publish(subject, JSON.stringify(PAYLOAD), { msgID: id });
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, lane));
}

/** The baseline: the @nats-io client by hand (consume() with a callback that handles and acks). */
async function runRaw(nc: NatsConnection, jsm: JetStreamManager, events: number): Promise<Sample> {
  const suffix = uniqueSuffix();
  const stream = `BENCH_RAW_${suffix}`;
  const subject = `bench_raw_${suffix}`;
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  try {
    await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit, ack_wait: nanos(30_000), filter_subject: `${subject}.>` });
    const js = jetstream(nc);
    const countdown = new Countdown(events);
    let handled = 0;
    const consumer = await js.consumers.get(stream, 'raw');
    const messages = await consumer.consume({
      max_messages: 256,
      callback: (msg) => {
        const payload = msg.json<typeof PAYLOAD>();
        if (payload.orderId === 123) handled++;
        msg.ack();
        countdown.hit();
      },
    });
    const sample = startSample();
    await publishWindowed(js, `${subject}.order.placed`, events);
    await countdown.finished;
    const result = sample.stop();
    await messages.close();
    await consumerSettled(jsm, stream, 'raw');
    if (handled !== events) throw new Error(`raw: handled ${handled} of ${events}`);
    return result;
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}

/** The transport: a Nest application with EventBusModule + NatsJetStreamTransport and one @OnEvent handler. */
async function runTransport(jsm: JetStreamManager, events: number): Promise<Sample> {
  const suffix = uniqueSuffix();
  const stream = `BENCH_EB_${suffix}`;
  const countdown = new Countdown(events);
  let handled = 0;

  @Injectable()
  class OrderListener {
    @OnEvent('order.placed')
    onPlaced(payload: typeof PAYLOAD) {
      if (payload.orderId === 123) handled++;
      countdown.hit();
    }
  }

  const transport = new NatsJetStreamTransport({
    servers: NATS_URL,
    stream,
    group: 'bench',
    // The raw client buffers without bound: let the whole run be accepted at once here too.
    maxBufferedPublishes: Math.max(10_000, events),
  });
  @Module({ imports: [EventBusModule.forRoot({ transport, logger: false })], providers: [OrderListener] })
  class BenchModule {}

  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
    await app.init();
    const publisher = app.get(EventPublisher);
    const sample = startSample();
    for (let i = 0; i < events; i++) publisher.publish('order.placed', PAYLOAD);
    await countdown.finished;
    const result = sample.stop();
    await consumerSettled(jsm, stream, 'bench');
    if (handled !== events) throw new Error(`transport: handled ${handled} of ${events}`);
    return result;
  } finally {
    // app.close() also switches the bus's AsyncLocalStorage off, so its promise hooks do not tax the raw runs.
    await app?.close();
    await jsm.streams.delete(stream).catch(() => undefined);
    await jsm.streams.delete(`${stream}_DEAD_LETTERS`).catch(() => undefined);
    await jsm.streams.delete(`KV_${stream}_delivery_state`).catch(() => undefined);
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
  const nc = await connect({ servers: NATS_URL });
  // The raw client as the transport configures its own connections: without a stack trace captured per
  // request. The strict baseline (the default client spends a good part of its CPU on those traces).
  const tunedNc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  try {
    // Warm-up (JIT, connection, server caches), not reported.
    const warm = Math.min(events, 2000);
    if (process.argv.includes('--raw-only') || process.argv.includes('--transport-only')) {
      // For profiling one path alone (node --cpu-prof ...).
      const run = process.argv.includes('--raw-only') ? () => runRaw(nc, jsm, events) : () => runTransport(jsm, events);
      await (process.argv.includes('--raw-only') ? runRaw(nc, jsm, warm) : runTransport(jsm, warm));
      const { wallNs } = await run();
      console.log(`${format(events / (wallNs / 1e9))} events/s`);
      return;
    }
    await runRaw(nc, jsm, warm);
    await runRaw(tunedNc, jsm, warm);
    await runTransport(jsm, warm);
    const raw: Sample[] = [];
    const tuned: Sample[] = [];
    const transport: Sample[] = [];
    for (let run = 0; run < runs; run++) {
      // Rotate the order so no path always runs on a warmer (or busier) server.
      const order = [
        async () => raw.push(await runRaw(nc, jsm, events)),
        async () => tuned.push(await runRaw(tunedNc, jsm, events)),
        async () => transport.push(await runTransport(jsm, events)),
      ];
      for (let i = 0; i < order.length; i++) await order[(i + run) % order.length]();
    }
    const rate = (ns: number) => events / (ns / 1e9);
    const wall = (samples: Sample[]) => samples.map((s) => s.wallNs);
    const cpuPerEvent = (samples: Sample[]) => median(samples.map((s) => s.cpuUs)) / events;
    const range = (samples: Sample[]) => `${format(rate(Math.max(...wall(samples))))}–${format(rate(Math.min(...wall(samples))))}`;
    const row = (label: string, samples: Sample[]) =>
      `| ${label} | ${format(rate(median(wall(samples))))} | ${range(samples)} | ${format(median(wall(samples)) / 1e6)} | ${cpuPerEvent(samples).toFixed(1)} |`;
    const ratio = (samples: Sample[]) => median(wall(samples)) / median(wall(transport));
    const lines = [
      `| Path (${format(events)} events, publish → handled → ack, median of ${runs}) | events/s | range | ms | CPU µs/event |`,
      '|---|---:|---:|---:|---:|',
      row('raw `@nats-io/jetstream`, default connection (publish + consume + ack)', raw),
      row('raw `@nats-io/jetstream`, `noAsyncTraces` connection like the transport\'s', tuned),
      row('`NatsJetStreamTransport` in a Nest app (`@OnEvent` handler)', transport),
      '',
      `Transport / raw throughput: **${(ratio(tuned) * 100).toFixed(0)}%** of the tuned raw client (target ≥ 80%), ` +
        `${(ratio(raw) * 100).toFixed(0)}% of the default one; CPU per event ${(cpuPerEvent(transport) / cpuPerEvent(tuned)).toFixed(2)}× the tuned raw client's. ` +
        `Server ${nc.info?.version ?? 'unknown'} at ${NATS_URL}, Node ${process.version}, window ${WINDOW} unacknowledged publishes, load average ${loadavg()[0].toFixed(2)} at the end.`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await tunedNc.drain();
    await nc.drain();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
