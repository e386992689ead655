import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { isEntryPoint } from './is-entry-point.js';
import type { Order } from './orders/order.js';
import { DEFAULT_NATS_URL, DEFAULT_REDIS_URL } from './sample.config.js';
import { describeExit, ServiceProcess } from './service-process.js';

/**
 * `npm run sample:distributed`: the order service and the notifications service as two processes on
 * NATS JetStream (or Redis Streams, with EVENT_TRANSPORT=redis). Places an order over HTTP and shows both services handling the same order.placed
 * event (each consumer group gets every event), then stops both with SIGTERM.
 */

export interface DistributedDemoOptions {
  /** Default: NATS_URL, else nats://127.0.0.1:4222. */
  natsUrl?: string;
  /** The broker. Default 'nats'. */
  transport?: 'nats' | 'redis';
  /** With `transport: 'redis'`. Default: REDIS_URL, else redis://127.0.0.1:6379. */
  redisUrl?: string;
  /** Default: EVENT_STREAM, else a new stream per run (deleted at the end, so runs never replay old events). */
  stream?: string;
  /** How long any one step may take before the demo gives up (a safety net: steps wait for log lines and HTTP state). */
  stepTimeoutMs?: number;
  /** Shows Nest's start-up lines (module loading, route and handler mapping) too. */
  verbose?: boolean;
  /** Where the output goes. Default: stdout. */
  print?: (line: string) => void;
}

export interface DistributedDemoResult {
  stream: string;
  order: Order;
  /** The id of the order.placed event both services handled. */
  eventId: string;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const ORDERS_GROUP = 'orders-service';
const NOTIFICATIONS_GROUP = 'notifications-service';
const LABEL_WIDTH = 'notifications'.length;
/** Nest's start-up chatter, left out unless verbose. */
const START_UP_NOISE = /\[(NestFactory|InstanceLoader|RoutesResolver|RouterExplorer|NestApplication)\]|\[EventBus\] Mapped /;

export async function runDistributedDemo(options: DistributedDemoOptions = {}): Promise<DistributedDemoResult> {
  const natsUrl = options.natsUrl ?? DEFAULT_NATS_URL;
  const ownStream = options.stream === undefined;
  const stream = options.stream ?? `sample_orders_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const stepTimeoutMs = options.stepTimeoutMs ?? 30_000;
  const write = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const say = (line: string) => write(`${'demo'.padEnd(LABEL_WIDTH)} | ${line}`);
  const relay = (label: string, line: string) => {
    if (options.verbose || !START_UP_NOISE.test(line)) write(`${label.padEnd(LABEL_WIDTH)} | ${line}`);
  };

  const broker = options.transport === 'redis' ? await redisBroker(options.redisUrl ?? DEFAULT_REDIS_URL) : await natsBroker(natsUrl);
  const services: ServiceProcess[] = [];
  // Ctrl-C / SIGTERM on the demo: stop the services, so the steps waiting on them fail and the clean-up runs.
  const interrupted = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the services`);
    for (const service of services) void service.stop(stepTimeoutMs).catch(() => undefined);
  };
  process.on('SIGINT', interrupted);
  process.on('SIGTERM', interrupted);
  try {
    say(`${broker.description}, stream ${stream}${ownStream ? ' (new for this run, deleted at the end)' : ''}`);
    const env = (group: string): NodeJS.ProcessEnv => ({
      ...process.env,
      ...broker.env,
      EVENT_STREAM: stream,
      SERVICE_NAME: group,
      PORT: '0',
      ...(process.stdout.isTTY ? {} : { NO_COLOR: '1' }),
    });
    say(`Starting the orders service (group ${ORDERS_GROUP}) and the notifications service (group ${NOTIFICATIONS_GROUP})`);
    const orders = new ServiceProcess('orders', join(HERE, 'main.js'), env(ORDERS_GROUP), relay);
    services.push(orders);
    const notifications = new ServiceProcess('notifications', join(HERE, 'notifications', 'main.js'), env(NOTIFICATIONS_GROUP), relay);
    services.push(notifications);
    const [listening] = await Promise.all([
      orders.waitForLine(/Listening on (http:\/\/localhost:\d+)/, '"Listening on http://localhost:<port>"', stepTimeoutMs),
      notifications.waitForLine(/Ready: consuming/, '"Ready: consuming ..."', stepTimeoutMs),
    ]);
    const baseUrl = listening[1];

    const body = { item: 'Coffee', quantity: 2 };
    say(`POST ${baseUrl}/orders ${JSON.stringify(body)}`);
    const placed = await http<{ id: number; status: string }>('POST', `${baseUrl}/orders`, 201, body);
    say(`  -> 201 ${JSON.stringify(placed)}`);
    const id = placed.id;

    // Fan-out: the orders service's listeners and the notifications service's both handle order.placed.
    const [sms] = await Promise.all([
      notifications.waitForLine(new RegExp(`Order #${id} placed: sending SMS \\(event (\\S+)\\)`), `the SMS for order #${id}`, stepTimeoutMs),
      orders.waitForLine(new RegExp(`Send confirmation for order #${id}$`), `the confirmation email for order #${id}`, stepTimeoutMs),
    ]);
    // The reservation runs in the orders service and comes back as order.reserved, through the broker too.
    const order = await untilSettled(`${baseUrl}/orders/${id}`, stepTimeoutMs);
    if (order.status !== 'reserved') {
      throw new Error(`Order #${id} ended ${order.status}${order.reason === undefined ? '' : ` (${order.reason})`}, not reserved.`);
    }
    say(`GET /orders/${id} -> status ${order.status} (${order.history.map((change) => change.status).join(' -> ')})`);

    // Same event on both sides: the id the notifications service logged is the order's order.placed event
    // (its correlation id), which the orders service's audit trail recorded too.
    const eventId = sms[1];
    const trail = await http<{ eventId: string; name: string }[]>(
      'GET',
      `${baseUrl}/audit?correlationId=${encodeURIComponent(order.correlationId)}`,
      200,
    );
    const auditedPlaced = trail.find((entry) => entry.name === 'order.placed');
    if (eventId !== order.correlationId || auditedPlaced?.eventId !== eventId) {
      throw new Error(
        `The services handled different events: notifications logged ${eventId}, the order's order.placed is ` +
          `${order.correlationId}, the orders service audited ${auditedPlaced?.eventId ?? 'none'}.`,
      );
    }
    say(`Fan-out: order.placed ${eventId} was handled by both groups:`);
    say(`  ${ORDERS_GROUP}: confirmation email, stock reserved, audited (${trail.map((entry) => entry.name).join(', ')})`);
    say(`  ${NOTIFICATIONS_GROUP}: SMS sent`);

    say('Stopping both services (SIGTERM)');
    const exits = await Promise.all(services.map((service) => service.stop(stepTimeoutMs)));
    const unclean = services.filter((_service, i) => exits[i].code !== 0);
    if (unclean.length !== 0) {
      throw new Error(
        unclean.map((service) => `${service.label} ${describeExit(exits[services.indexOf(service)])} after SIGTERM, not 0`).join('; '),
      );
    }
    say('Both services shut down gracefully (exit code 0).');
    return { stream, order, eventId };
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await Promise.all(services.map((service) => service.kill()));
    if (ownStream) await broker.deleteStream(stream);
    await broker.close();
  }
}

/** Re-reads the order (every 100ms) until its reservation was handled, i.e. its status left 'placed'. */
async function untilSettled(url: string, timeoutMs: number): Promise<Order> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const order = await http<Order>('GET', url, 200);
    if (order.status !== 'placed') return order;
    if (Date.now() > deadline) throw new Error(`The order at ${url} was still placed after ${timeoutMs}ms: its reservation never came back.`);
    await sleep(100);
  }
}

async function http<T>(method: 'GET' | 'POST', url: string, expected: number, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expected) throw new Error(`${method} ${url} answered ${response.status} (expected ${expected}): ${text}`);
  return JSON.parse(text) as T;
}

/** The demo's own handle on the broker: reachability, the services' environment, clean-up. */
interface DemoBroker {
  description: string;
  env: NodeJS.ProcessEnv;
  deleteStream(stream: string): Promise<void>;
  close(): Promise<void>;
}

/** The clients are imported here only: the demo over one engine never loads the other's. */
async function natsBroker(natsUrl: string): Promise<DemoBroker> {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: natsUrl, timeout: 5000 }).catch((error: unknown) => {
    throw new Error(`NATS is not reachable at ${natsUrl} (${String(error)}). Start a server with JetStream enabled (nats-server -js), or point NATS_URL at one.`);
  });
  return {
    description: `NATS JetStream at ${natsUrl}`,
    env: { EVENT_TRANSPORT: 'nats', NATS_URL: natsUrl },
    async deleteStream(stream) {
      const jsm = await jetstreamManager(nc);
      // Never created, e.g. when a service failed to start: nothing to delete.
      for (const name of [stream, `${stream}_DEAD_LETTERS`]) await jsm.streams.delete(name).catch(() => false);
    },
    close: () => nc.close(),
  };
}

async function redisBroker(redisUrl: string): Promise<DemoBroker> {
  const { Redis } = await import('ioredis');
  const client = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => undefined);
  await client.connect().catch((error: unknown) => {
    throw new Error(`Redis is not reachable at ${redisUrl} (${String(error)}). Start redis-server, or point REDIS_URL at one.`);
  });
  return {
    description: `Redis Streams at ${redisUrl}`,
    env: { EVENT_TRANSPORT: 'redis', REDIS_URL: redisUrl },
    async deleteStream(stream) {
      await client.del(`{${stream}}:events`, `{${stream}}:dead-letters`);
    },
    async close() {
      await client.quit();
    },
  };
}

if (isEntryPoint(import.meta.url)) {
  try {
    await runDistributedDemo({
      natsUrl: process.env.NATS_URL || undefined,
      transport: process.env.EVENT_TRANSPORT === 'redis' ? 'redis' : 'nats',
      redisUrl: process.env.REDIS_URL || undefined,
      stream: process.env.EVENT_STREAM || undefined,
      verbose: process.env.VERBOSE === '1',
    });
  } catch (error) {
    console.error(`sample:distributed failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
