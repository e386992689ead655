import type { EventBusModuleOptions, EventTransport } from '../lib/index.js';
import type { NatsConfig, RedisConfig, SampleConfig, TransportConfig } from './sample.config.js';

/**
 * Every EventBusModule option of the order service, in one place (used through
 * `EventBusModule.forRootAsync`, so the NATS or Redis client is loaded only when asked for).
 * Handlers declare no retry of their own, so this policy is the service's: a failing handler is retried
 * with exponential backoff (RETRY_DELAY_MS, then twice that, ... up to RETRY_MAX_DELAY_MS), then its
 * event is dead-lettered (see GET /events/dead-letters).
 * With EVENT_TRANSPORT=nats, `publish` sends each event to JetStream, and the handlers here run for what
 * the service's consumer group delivers back (see transportFor).
 */
export async function eventBusOptions(config: SampleConfig): Promise<EventBusModuleOptions> {
  const transport = await transportFor(config.transport);
  return {
    retry: {
      attempts: config.retry.attempts,
      backoff: { initialDelayMs: config.retry.initialDelayMs, factor: 2, maxDelayMs: config.retry.maxDelayMs },
    },
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    telemetry: config.telemetry,
    ...(transport === undefined ? {} : { transport }),
  };
}

/**
 * The EventBusModule options of the notifications service (sample-app/notifications): always over a
 * broker (NATS, or Redis with EVENT_TRANSPORT=redis), the library's default retry policy (none: an SMS
 * is not worth sending twice).
 */
export async function notificationsEventBusOptions(broker: NatsConfig | RedisConfig): Promise<EventBusModuleOptions> {
  return { transport: broker.kind === 'redis' ? await redisTransport(broker) : await natsTransport(broker) };
}

/** No transport for in-process events; a NatsJetStreamTransport for `nats`, a RedisStreamsTransport for `redis`. */
async function transportFor(config: TransportConfig): Promise<EventTransport | undefined> {
  if (config.kind === 'nats') return natsTransport(config);
  if (config.kind === 'redis') return redisTransport(config);
  return undefined;
}

/** Loaded on demand, like NATS: only `nestjs-event-bus/redis` (here ../lib/redis) loads ioredis. */
async function redisTransport({ url, stream, group }: RedisConfig): Promise<EventTransport> {
  const { RedisStreamsTransport } = await import('../lib/redis/index.js');
  return new RedisStreamsTransport({ connection: url, stream, group });
}

/**
 * Loaded on demand: `nestjs-event-bus/nats` (here ../lib/nats) is the only entry that loads @nats-io/*,
 * so the in-process sample never does.
 */
async function natsTransport({ servers, stream, group }: NatsConfig): Promise<EventTransport> {
  const { NatsJetStreamTransport } = await import('../lib/nats/index.js');
  return new NatsJetStreamTransport({ servers, stream, group });
}
