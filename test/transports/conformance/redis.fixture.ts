import { RedisStreamsTransport, type RedisStreamsTransportOptions } from '../../../lib/redis/index.js';
import { DEAD_LETTER_FIELD } from '../../../lib/redis/index.js';
import { describeWithRedis, deleteStreamKeys, entries, PrivateRedisServer, rawClient, REDIS_URL, uniqueStream } from '../../redis/support/redis-test-env.js';
import { sendDirect, WRONG_KEY } from './raw-envelope.js';
import type { ConformanceOptions, TransportFixture } from './transport-fixture.js';

export function redisOptions(stream: string, group: string, o: ConformanceOptions = {}): RedisStreamsTransportOptions {
  return {
    connection: o.url ?? REDIS_URL,
    stream,
    group,
    ...(o.signingKey === undefined ? {} : { signingKey: o.signingKey }),
    ...(o.maxDeliveries === undefined ? {} : { maxDeliveries: o.maxDeliveries }),
    backoff: { initialDelayMs: o.backoffMs ?? 50, maxDelayMs: 1000 },
    ...(o.fastTakeover ? { reclaimIdleMs: 1500, reclaimIntervalMs: 250 } : {}),
    ...(o.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: o.closeTimeoutMs }),
    blockMs: 500,
  };
}

export const redisFixture: TransportFixture = {
  name: 'redis',
  describe: () => describeWithRedis('the Redis conformance suite'),
  supports: { childProcesses: true, brokerRestart: true, durableGroups: true },
  namespace(label) {
    const stream = uniqueStream(label);
    // Private servers are disposed with their data; only the shared server needs cleaning.
    const urls = [REDIS_URL];
    return {
      transport: (group, o = {}) => {
        return new RedisStreamsTransport(redisOptions(stream, group, o));
      },
      async injectRaw(kind, url = REDIS_URL) {
        if (kind === 'garbage') {
          const client = rawClient(url);
          await client.xadd(`{${stream}}:events`, '*', 'nonsense', 'x');
          await client.quit();
          return;
        }
        await sendDirect(new RedisStreamsTransport(redisOptions(stream, 'raw', { url, ...(kind === 'forged' ? { signingKey: WRONG_KEY } : {}) })), kind);
      },
      async deadLetters(url = REDIS_URL) {
        const client = rawClient(url);
        try {
          return (await entries(client, `{${stream}}:dead-letters`)).map(({ fields }) => ({
            reason: fields[DEAD_LETTER_FIELD.reason],
            ...(fields[DEAD_LETTER_FIELD.handler] === undefined ? {} : { handler: fields[DEAD_LETTER_FIELD.handler] }),
            deliveries: Number(fields[DEAD_LETTER_FIELD.deliveries]),
            ...(fields.id === undefined ? {} : { eventId: fields.id }),
            group: fields[DEAD_LETTER_FIELD.group],
          }));
        } finally {
          await client.quit();
        }
      },
      workerEnv: (group, o = {}) => ({ TRANSPORT: 'redis', OPTIONS: JSON.stringify(redisOptions(stream, group, o)) }),
      async dispose() {
        for (const url of urls) {
          const client = rawClient(url);
          client.on('error', () => undefined);
          await deleteStreamKeys(client, stream);
          client.disconnect();
        }
      },
    };
  },
  async privateBroker() {
    const server = await PrivateRedisServer.start();
    return {
      url: server.url,
      restart: async () => {
        await server.kill();
        await server.restart();
      },
      dispose: () => server.dispose(),
    };
  },
};
