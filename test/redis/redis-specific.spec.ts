/**
 * What only the Redis Streams transport has (the shared behaviour is in test/transports/conformance):
 * trimming that never deletes an entry a group still needs, recreating a deleted group, the
 * maxmemory-policy warning, refusing to start without Redis, option validation.
 */
import 'reflect-metadata';
import { Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBus, EventBusModule, EventPublisher, type EventEnvelope } from '../../lib/index.js';
import { RedisHealthIndicator, RedisStreamsTransport, RedisTransportConfigError, type RedisStreamsTransportOptions } from '../../lib/redis/index.js';
import { withScripts } from '../../lib/redis/redis-scripts.js';
import { resolveRedisOptions } from '../../lib/redis/redis-streams-transport.options.js';
import { deleteStreamKeys, describeWithRedis, PrivateRedisServer, rawClient, REDIS_URL, uniqueStream } from './support/redis-test-env.js';

const describeRedis = await describeWithRedis('redis-specific.spec.ts');

function transport(stream: string, group: string, extra: Partial<RedisStreamsTransportOptions> = {}): RedisStreamsTransport {
  return new RedisStreamsTransport({ connection: REDIS_URL, stream, group, blockMs: 300, ...extra });
}

async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}

const warnings: string[] = [];
const logger: LoggerService = { log: () => undefined, warn: (m: string) => void warnings.push(String(m)), error: () => undefined };

describe('RedisStreamsTransport options', () => {
  it.each([
    [{ stream: 'a{b}' }, /`stream` must be a non-empty name/],
    [{ group: '' }, /`group` must be a non-empty name/],
    [{ connection: 'http://x' }, /`connection` must be a redis:\/\/ or rediss:\/\/ URL/],
    [{ concurrency: 2.5 }, /`concurrency` must be a whole number/],
    [{ reclaimIdleMs: 10 }, /`reclaimIdleMs` must be at least 1000/],
    [{ maxDeliveries: 0 }, /`maxDeliveries` must be a positive number/],
    [{ maxLostDeliveries: 1.5 }, /`maxLostDeliveries` must be a whole number/],
    [{ deliveryStateTtlMs: -1 }, /`deliveryStateTtlMs` must be a positive number/],
    [{ publishFlushTimeoutMs: -1 }, /`publishFlushTimeoutMs` must be/],
    [{ signingKey: 'short' }, /at least 16 bytes/],
    [{ startFrom: 'latest' }, /`startFrom` must be 'all' or 'new'/],
    [{ trim: { intervalMs: -1 } }, /`trim.intervalMs` must be a positive number/],
    [{ deadLetterStream: 'events' }, /must differ from 'events'/],
  ])('refuses %j with a message that says what to change', (override, message) => {
    const create = () => new RedisStreamsTransport({ connection: REDIS_URL, stream: 's', group: 'g', ...(override as object) } as RedisStreamsTransportOptions);
    expect(create).toThrow(RedisTransportConfigError);
    expect(create).toThrow(message);
  });

  it('splits the close timeout: closeTimeoutMs sets both, each of handlingCloseTimeoutMs and publishFlushTimeoutMs wins when set', () => {
    const base = { connection: REDIS_URL, stream: 's', group: 'g' };
    expect(resolveRedisOptions(base)).toMatchObject({ handlingCloseTimeoutMs: 8000, publishFlushTimeoutMs: 8000 });
    expect(resolveRedisOptions({ ...base, closeTimeoutMs: 500 })).toMatchObject({ handlingCloseTimeoutMs: 500, publishFlushTimeoutMs: 500 });
    expect(resolveRedisOptions({ ...base, closeTimeoutMs: 500, publishFlushTimeoutMs: 9000 })).toMatchObject({ handlingCloseTimeoutMs: 500, publishFlushTimeoutMs: 9000 });
  });

  it('refuses to start, saying why, when Redis cannot be reached', async () => {
    const t = new RedisStreamsTransport({ connection: 'redis://127.0.0.1:1', stream: 's', group: 'g', connectTimeoutMs: 300 });
    const host = { logger, subscriptions: () => [], deliver: () => Promise.reject(new Error('unused')), settledHandlers: () => [], restoreEnvelope: () => { throw new Error('unused'); } };
    await expect(t.start(host)).rejects.toThrow(/Could not reach Redis at 127\.0\.0\.1:1 within 300ms/);
    expect(new RedisHealthIndicator(t).check().redis.status).toBe('down');
    await t.close();
  });
});

describeRedis('Redis Streams transport: Redis-specific behaviour', () => {
  const client = rawClient();
  const streams: string[] = [];
  const apps: INestApplication[] = [];
  const stream = (label: string) => {
    const s = uniqueStream(label);
    streams.push(s);
    return s;
  };

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    for (const s of streams) await deleteStreamKeys(client, s);
    await client.quit();
  });

  async function start(t: RedisStreamsTransport, handle?: (envelope: EventEnvelope) => void): Promise<INestApplication> {
    @Module({ imports: [EventBusModule.forRoot({ logger, transport: t })] })
    class RedisSpecificModule {}
    const app = (await Test.createTestingModule({ imports: [RedisSpecificModule] }).compile()).createNestApplication({ logger: false });
    if (handle !== undefined) app.get(EventBus).on('job.run', (_p: unknown, e: EventEnvelope) => handle(e));
    await app.init();
    apps.push(app);
    return app;
  }

  it('trims only what every group acknowledged: entries a stopped group has not read survive', async () => {
    const s = stream('trim');
    const key = `{${s}}:events`;
    const scripted = withScripts(client);
    // Group "late" exists but is not running; group "fast" handles everything.
    await client.xgroup('CREATE', key, 'late', '0', 'MKSTREAM');
    let fast = 0;
    await start(transport(s, 'fast', { trim: { intervalMs: 100 } }), () => void fast++);
    const publisher = await start(transport(s, 'publisher', { trim: false }));
    for (let i = 0; i < 10; i++) await publisher.get(EventPublisher).publishAndWait('job.run', { i });
    await eventually(() => fast === 10);
    await eventually(async () => Number((await client.xinfo('GROUPS', key) as unknown[][]).find((g) => g[1] === 'fast')?.[5]) === 0);
    expect(await scripted.ebTrim(key, '')).toBe(0);
    expect(await client.xlen(key)).toBe(10);
    // The late group reads 4 and acknowledges 2: the oldest unacknowledged entry bounds the trim.
    const read = (await client.xreadgroup('GROUP', 'late', 'c', 'COUNT', 4, 'STREAMS', key, '>')) as [string, [string, string[]][]][];
    const ids = read[0][1].map(([id]) => id);
    await client.xack(key, 'late', ids[0], ids[1]);
    expect(await scripted.ebTrim(key, '')).toBe(2);
    expect((await client.xrange(key, '-', '+')).map(([id]) => id)[0]).toBe(ids[2]);
    // Once every group acknowledged everything, the interval trimming empties the stream.
    await client.xack(key, 'late', ids[2], ids[3]);
    await client.xreadgroup('GROUP', 'late', 'c', 'COUNT', 100, 'STREAMS', key, '>').then((r) => {
      const rest = ((r ?? []) as [string, [string, string[]][]][])[0]?.[1] ?? [];
      return rest.length === 0 ? 0 : client.xack(key, 'late', ...rest.map(([id]) => id));
    });
    await eventually(async () => (await client.xlen(key)) === 0);
  });

  it('keeps entries younger than minRetentionMs even once acknowledged', async () => {
    const s = stream('retain');
    const key = `{${s}}:events`;
    await client.xgroup('CREATE', key, 'g', '0', 'MKSTREAM');
    await client.xadd(key, '*', 'id', 'x', 'name', 'n', 'at', '1');
    await client.xreadgroup('GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', key, '>');
    const [[id]] = (await client.xrange(key, '-', '+')) as [string, string[]][];
    await client.xack(key, 'g', id);
    const floorBefore = `${Number(id.split('-')[0]) - 60_000}-0`;
    expect(await withScripts(client).ebTrim(key, floorBefore)).toBe(0);
    expect(await withScripts(client).ebTrim(key, '')).toBe(1);
  });

  it('prunes only consumers that hold no pending entry', async () => {
    const key = `{${stream('prune')}}:events`;
    await client.xgroup('CREATE', key, 'g', '0', 'MKSTREAM');
    await client.xadd(key, '*', 'id', 'x', 'name', 'n', 'at', '1');
    await client.xreadgroup('GROUP', 'g', 'holder', 'COUNT', 1, 'STREAMS', key, '>');
    await client.xgroup('CREATECONSUMER', key, 'g', 'idle');
    expect(await withScripts(client).ebPrune(key, 'g', -1)).toBe(1);
    expect(((await client.xinfo('CONSUMERS', key, 'g')) as unknown[][]).map((c) => c[1])).toEqual(['holder']);
  });

  it('recreates a consumer group deleted under it (NOGROUP) and keeps consuming', async () => {
    const s = stream('nogroup');
    const seen: string[] = [];
    await start(transport(s, 'workers'), (e) => void seen.push(e.id));
    const publisher = await start(transport(s, 'publisher'));
    const first = await publisher.get(EventPublisher).publishAndWait('job.run', { n: 1 });
    await eventually(() => seen.length === 1);
    await client.xgroup('DESTROY', `{${s}}:events`, 'workers');
    const second = await publisher.get(EventPublisher).publishAndWait('job.run', { n: 2 });
    await eventually(() => seen.includes(second.envelope.id));
    expect(seen[0]).toBe(first.envelope.id);
  });

  it('dead-letters an entry whose deliveries keep getting lost (crashed instances) after maxLostDeliveries, and only then', async () => {
    const s = stream('lost');
    const key = `{${s}}:events`;
    const publisher = await start(transport(s, 'publisher'));
    await client.xgroup('CREATE', key, 'workers', '0', 'MKSTREAM');
    const { envelope } = await publisher.get(EventPublisher).publishAndWait('job.run', { n: 1 });
    // Two consumers that "crash": each reads the entry and never acknowledges it, releases it nor fails it.
    await client.xreadgroup('GROUP', 'workers', 'crashed-1', 'COUNT', 1, 'STREAMS', key, '>');
    await client.xclaim(key, 'workers', 'crashed-2', 0, (await client.xrange(key, '-', '+'))[0][0]);
    const seen: string[] = [];
    await start(transport(s, 'workers', { maxLostDeliveries: 2, reclaimIdleMs: 1000, reclaimIntervalMs: 200 }), (e) => void seen.push(e.id));
    await eventually(async () => (await client.xlen(`{${s}}:dead-letters`)) === 1);
    const [[, fields]] = (await client.xrange(`{${s}}:dead-letters`, '-', '+')) as [string, string[]][];
    expect(fields).toEqual(expect.arrayContaining(['id', envelope.id]));
    expect(fields.join(' ')).toMatch(/2 of its 3 deliveries ended without an acknowledgement, a failure or a release \(maxLostDeliveries 2\)/);
    expect(seen).toEqual([]);
  });

  it('keeps a failing entry in the group while its failures stay under maxDeliveries, whatever its delivery count', async () => {
    const s = stream('budget');
    const key = `{${s}}:events`;
    const publisher = await start(transport(s, 'publisher'));
    await client.xgroup('CREATE', key, 'workers', '0', 'MKSTREAM');
    await publisher.get(EventPublisher).publishAndWait('job.run', { n: 1 });
    // One lost delivery (a crashed consumer) first: with maxDeliveries 2 the entry still gets two failures.
    await client.xreadgroup('GROUP', 'workers', 'crashed', 'COUNT', 1, 'STREAMS', key, '>');
    let runs = 0;
    await start(transport(s, 'workers', { maxDeliveries: 2, reclaimIdleMs: 1000, reclaimIntervalMs: 200, backoff: { initialDelayMs: 50 } }), () => {
      runs++;
      throw new Error('still broken');
    });
    await eventually(async () => (await client.xlen(`{${s}}:dead-letters`)) === 1);
    expect(runs).toBe(2);
    const [[, fields]] = (await client.xrange(`{${s}}:dead-letters`, '-', '+')) as [string, string[]][];
    expect(fields.join(' ')).toContain('handler-failed');
    // The delivery state went with the entry.
    expect(await client.keys(`{${s}}:delivery-state:*`)).toEqual([]);
  });

  it('warns at start when maxmemory-policy could evict the streams', async () => {
    const server = await PrivateRedisServer.start(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    try {
      warnings.length = 0;
      const app = await start(transport(stream('evict'), 'g', { connection: server.url }));
      expect(warnings.some((w) => w.includes('maxmemory-policy allkeys-lru') && w.includes('noeviction'))).toBe(true);
      await app.close();
    } finally {
      await server.dispose();
    }
  });

  it('uses an application-owned ioredis instance without closing it', async () => {
    const own = rawClient();
    const s = stream('owned');
    const seen: string[] = [];
    const t = transport(s, 'w', { connection: own });
    const app = await start(t, (e) => void seen.push(e.id));
    const { envelope } = await app.get(EventPublisher).publishAndWait('job.run', {});
    await eventually(() => seen.includes(envelope.id));
    expect(new RedisHealthIndicator(t).check().redis.status).toBe('up');
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(await own.ping()).toBe('PONG');
    await own.quit();
  });
});
