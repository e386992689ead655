import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import { ServiceProcess } from '../../sample-app/service-process.js';
import { deleteSampleStreams, describeWithNats, NATS_URL, rawConnection, uniqueNatsConfig } from './nats-env.js';

// The compiled sample with OpenTelemetry: without the API (or with TELEMETRY=off) nothing of it is loaded;
// with an SDK registered in each process, an HTTP request to the order service, through NATS, to the
// handlers of both services ends as one trace. Built into a directory of its own (dist-sample-otel), so it
// never overlaps the build of compiled-sample.e2e-spec.ts.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'test/sample-app/fixtures');
const distSample = join(root, 'dist-sample-otel');
const describeNats = await describeWithNats();

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child: this process's, without the sample's own variables. */
function childEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { EVENT_TRANSPORT: _t, EVENT_STREAM: _s, SERVICE_NAME: _n, PORT: _p, TELEMETRY: _o, OTEL_CONSOLE: _c, ...inherited } = process.env;
  return { ...inherited, NO_COLOR: '1', ...env };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const explain = (f: Finished) => `exit ${f.code}\n--- stdout\n${f.stdout}\n--- stderr\n${f.stderr}`;
const placeOrder = (imports: string[], env: NodeJS.ProcessEnv = {}) =>
  run('node', [...imports.flatMap((i) => ['--import', join(fixtures, i)]), join(fixtures, 'place-order-in-compiled-sample.mjs'), distSample], env);

beforeAll(async () => {
  const build = await run('npx', ['tsc', '-p', 'sample-app/tsconfig.json', '--outDir', distSample]);
  if (build.code !== 0) throw new Error(`building the sample into ${distSample} failed: ${explain(build)}`);
}, 180_000);

afterAll(() => {
  rmSync(distSample, { recursive: true, force: true });
});

describe('compiled sample, telemetry not loaded', () => {
  it('@opentelemetry/api not installed: an order runs end to end, no error, nothing of @opentelemetry resolved', async () => {
    const finished = await placeOrder(['hide-opentelemetry.mjs']);

    expect({ code: finished.code, stderr: finished.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(finished.stdout)).toMatchObject({ id: 1, status: 'reserved' });
  }, 60_000);

  it('TELEMETRY=off: lib/opentelemetry and the sample\'s telemetry/ are never loaded', async () => {
    const finished = await placeOrder(['refuse-telemetry-entry.mjs'], { TELEMETRY: 'off' });

    expect({ code: finished.code, stderr: finished.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(finished.stdout)).toMatchObject({ id: 1, status: 'reserved' });
  }, 60_000);

  it('(the check above can fail) with telemetry on and the API installed, the same process loads lib/opentelemetry', async () => {
    const finished = await placeOrder(['refuse-telemetry-entry.mjs']);

    expect(finished.code).not.toBe(0);
    expect(finished.stderr).toMatch(/refused to load \S*\/lib\/opentelemetry\//);
  }, 60_000);
});

interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  links: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  events: string[];
  status: number;
}

const SERVER = 1;
const PRODUCER = 3;
const CONSUMER = 4;

function readSpans(file: string): ExportedSpan[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ExportedSpan);
}

describeNats('compiled sample over NATS with an OpenTelemetry SDK in each process', () => {
  let nc: NatsConnection;
  let work: string;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    nc = await rawConnection();
    work = mkdtempSync(join(tmpdir(), 'otel-sample-'));
  });

  afterAll(async () => {
    for (const service of services) await service.kill();
    await nc.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('POST /orders -> send -> (NATS) -> receive -> process in both services: one trace id, parents and links as the conventions say', async () => {
    const nats = uniqueNatsConfig('otel', 'orders-service');
    const ordersFile = join(work, 'orders.jsonl');
    const notificationsFile = join(work, 'notifications.jsonl');
    const common = { EVENT_TRANSPORT: 'nats', NATS_URL, EVENT_STREAM: nats.stream, EMAIL_LATENCY_MS: '0', RETRY_DELAY_MS: '10' };
    const sdk = ['--import', join(fixtures, 'otel-file-sdk.mjs')];
    const ordersProcess = spawnService('orders', [...sdk, join(distSample, 'sample-app/main.js')], {
      ...common,
      SERVICE_NAME: 'orders-service',
      PORT: '0',
      OTEL_SPANS_FILE: ordersFile,
    });
    const notificationsProcess = spawnService('notifications', [...sdk, join(distSample, 'sample-app/notifications/main.js')], {
      ...common,
      SERVICE_NAME: 'notifications-service',
      OTEL_SPANS_FILE: notificationsFile,
    });
    try {
      const [, port] = await ordersProcess.waitForLine(/Listening on http:\/\/localhost:(\d+)/, 'its port', 60_000);
      await notificationsProcess.waitForLine(/Ready: consuming from NATS JetStream/, 'that it is ready', 60_000);

      const placed = await fetch(`http://127.0.0.1:${port}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'Coffee', quantity: 2 }),
      });
      expect(placed.status).toBe(201);
      await notificationsProcess.waitForLine(/sending SMS/, 'the SMS', 30_000);
      // The order service's own handlers ran when its status reads reserved (order.reserved handled).
      for (;;) {
        const order = (await (await fetch(`http://127.0.0.1:${port}/orders/1`)).json()) as { status: string };
        if (order.status === 'reserved') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await ordersProcess.stop(20_000)).code).toBe(0);
      expect((await notificationsProcess.stop(20_000)).code).toBe(0);
    } catch (error) {
      throw new Error(`${String(error)}\n--- service output\n${services.flatMap((s) => s.lines.map((l) => `${s.label} | ${l}`)).join('\n')}`);
    } finally {
      await deleteSampleStreams(nc, nats.stream);
    }

    const ordersSpans = readSpans(ordersFile);
    const notificationSpans = readSpans(notificationsFile);
    const all = [...ordersSpans, ...notificationSpans];
    const byId = new Map(all.map((s) => [s.spanId, s]));
    const one = (spans: ExportedSpan[], name: string, match: Record<string, unknown> = {}) => {
      const found = spans.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.attributes[k] === v));
      if (found.length !== 1) throw new Error(`expected one span "${name}" ${JSON.stringify(match)}, found ${found.length}: ${all.map((s) => s.name).join(', ')}`);
      return found[0];
    };

    const request = one(ordersSpans, 'POST /orders');
    expect(request.kind).toBe(SERVER);
    expect(request.parentSpanId).toBeUndefined();

    const send = one(ordersSpans, 'send order.placed');
    expect(send.kind).toBe(PRODUCER);
    expect(send.parentSpanId).toBe(request.spanId);
    expect(send.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'order.placed' });

    // Each consumer group received it once: CONSUMER receive, child of the send span and linked to it.
    for (const [spans, group] of [
      [ordersSpans, 'orders-service'],
      [notificationSpans, 'notifications-service'],
    ] as const) {
      const receive = one(spans, 'receive order.placed');
      expect(receive.kind).toBe(CONSUMER);
      expect(receive.parentSpanId).toBe(send.spanId);
      expect(receive.links).toEqual([{ traceId: send.traceId, spanId: send.spanId }]);
      expect(receive.attributes).toMatchObject({
        'messaging.system': 'nats',
        'messaging.operation.type': 'receive',
        'messaging.consumer.group.name': group,
        'messaging.message.id': send.attributes['messaging.message.id'],
        'nestjs_event_bus.delivery_count': 1,
      });
      const processes = spans.filter((s) => s.name === 'process order.placed');
      expect(processes.length).toBeGreaterThan(0);
      for (const process of processes) {
        expect(process.kind).toBe(CONSUMER);
        expect(process.parentSpanId).toBe(receive.spanId);
        expect(process.links).toEqual([{ traceId: send.traceId, spanId: send.spanId }]);
        expect(process.attributes['messaging.consumer.group.name']).toBe(group);
      }
    }
    one(notificationSpans, 'process order.placed', { 'nestjs_event_bus.handler': 'SmsListener.sendOrderPlacedSms' });

    // The follow-up the inventory handler published is sent under that handler's span, and handled in turn.
    const reserve = one(ordersSpans, 'process order.placed', { 'nestjs_event_bus.handler': 'InventoryListener.reserveStock' });
    const sendReserved = one(ordersSpans, 'send order.reserved');
    expect(sendReserved.parentSpanId).toBe(reserve.spanId);
    expect(one(ordersSpans, 'receive order.reserved').parentSpanId).toBe(sendReserved.spanId);

    // One trace, from the HTTP request to the last handler of both processes (the test's GET /orders/1
    // polls are requests of their own); every parent is a span we have.
    const polls = all.filter((s) => s.name === 'GET /orders/1');
    expect(polls.length).toBeGreaterThan(0);
    expect(new Set(all.filter((s) => !polls.includes(s)).map((s) => s.traceId))).toEqual(new Set([request.traceId]));
    for (const span of all) if (span.parentSpanId !== undefined) expect(byId.has(span.parentSpanId)).toBe(true);
  }, 120_000);

  function spawnService(label: string, args: string[], env: NodeJS.ProcessEnv): ServiceProcess {
    const service = new ServiceProcess(label, args, childEnv(env), () => undefined);
    services.push(service);
    return service;
  }
});
