import { randomBytes } from 'node:crypto';
/** What the order service can be tuned with. Tests pass their own (fast retries, no mail latency). */
export interface SampleConfig {
  /** Every handler's retry policy: tries (the first included) and exponential backoff between them. */
  retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  /** How long the simulated mail server takes per message: the "slow listener" of the sample. */
  emailLatencyMs: number;
  /** How long `app.close()` waits for in-flight handlers. */
  shutdownTimeoutMs: number;
  /** Units in stock when the service starts; an item not listed has none. */
  initialStock: Readonly<Record<string, number>>;
  /** Where events travel: within this process (the default), or through NATS JetStream or Redis Streams. */
  transport: TransportConfig;
  /** The password of the events page (/events, user "ops", HTTP basic authentication). */
  opsPassword: string;
  /** OpenTelemetry spans and metrics when @opentelemetry/api is installed (TELEMETRY=off: none, nothing loaded). */
  telemetry: boolean;
  /**
   * With DATABASE_URL: orders are written to PostgreSQL, their OrderPlaced event into the outbox in the
   * same transaction (published by the outbox relay after commit). Unset: in memory, pg never loaded.
   */
  database?: DatabaseConfig;
}

export interface DatabaseConfig {
  /** PostgreSQL connection string (DATABASE_URL). */
  url: string;
  /** Schema of the orders and outbox tables (DATABASE_SCHEMA, default sample_orders). */
  schema: string;
}

/** In-process: handlers run in the publishing process. NATS / Redis: every event goes through the broker first. */
export type TransportConfig = { kind: 'in-process' } | NatsConfig | RedisConfig;

/** What RedisStreamsTransport needs to know about this service (see event-bus.options.ts). */
export interface RedisConfig {
  kind: 'redis';
  /** Redis URL. */
  url: string;
  /** Name of the event stream, shared by every service. */
  stream: string;
  /** The consumer group: the service's name. */
  group: string;
}

/** What NatsJetStreamTransport needs to know about this service (see event-bus.options.ts). */
export interface NatsConfig {
  kind: 'nats';
  /** NATS server URL. */
  servers: string;
  /** JetStream stream of the events, shared by every service. */
  stream: string;
  /** The consumer group: the service's name. Each group gets every event; instances of one group share them. */
  group: string;
}

/** Injection token of the SampleConfig. */
export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

export const DEFAULT_STOCK: Readonly<Record<string, number>> = { Coffee: 100, Tea: 50, Croissant: 12 };

/**
 * Reads the configuration from environment variables (all optional):
 * RETRY_ATTEMPTS (4), RETRY_DELAY_MS (500), RETRY_MAX_DELAY_MS (5000), EMAIL_LATENCY_MS (300),
 * SHUTDOWN_TIMEOUT_MS (10000), OPS_PASSWORD (the events page's password; a random one when unset, so the
 * page is closed until you choose one), TELEMETRY (on; "off" turns OpenTelemetry off), EVENT_TRANSPORT
 * (see transportConfigFromEnv), and DATABASE_URL / DATABASE_SCHEMA (see databaseConfigFromEnv).
 * OTEL_CONSOLE=1 prints spans and metrics (see telemetry.ts).
 */
export function sampleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    retry: {
      attempts: readInteger(env, 'RETRY_ATTEMPTS', 4, 1),
      initialDelayMs: readInteger(env, 'RETRY_DELAY_MS', 500, 0),
      maxDelayMs: readInteger(env, 'RETRY_MAX_DELAY_MS', 5000, 0),
    },
    emailLatencyMs: readInteger(env, 'EMAIL_LATENCY_MS', 300, 0),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    initialStock: DEFAULT_STOCK,
    transport: transportConfigFromEnv(env, 'orders-service'),
    opsPassword: env.OPS_PASSWORD || randomBytes(18).toString('base64url'),
    telemetry: readSwitch(env, 'TELEMETRY', true),
    ...databaseConfigFromEnv(env),
  };
}

/** DATABASE_URL set: orders in PostgreSQL through the outbox, in DATABASE_SCHEMA (sample_orders). */
export function databaseConfigFromEnv(env: NodeJS.ProcessEnv): { database?: DatabaseConfig } {
  const url = env.DATABASE_URL?.trim();
  if (url === undefined || url === '') return {};
  const schema = readText(env, 'DATABASE_SCHEMA', 'sample_orders');
  return { database: { url, schema } };
}

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
export const DEFAULT_EVENT_STREAM = 'sample_orders';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * EVENT_TRANSPORT: unset (or `in-process`) keeps events in the process; `nats` sends them through NATS
 * JetStream, with NATS_URL (nats://127.0.0.1:4222), EVENT_STREAM (sample_orders) and SERVICE_NAME, the
 * consumer group (`defaultGroup`); `redis` sends them through Redis Streams, with REDIS_URL
 * (redis://127.0.0.1:6379), EVENT_STREAM and SERVICE_NAME likewise.
 */
export function transportConfigFromEnv(env: NodeJS.ProcessEnv, defaultGroup: string): TransportConfig {
  const kind = (env.EVENT_TRANSPORT ?? '').trim();
  if (kind === '' || kind === 'in-process') return { kind: 'in-process' };
  if (kind === 'nats') return natsConfigFromEnv(env, defaultGroup);
  if (kind === 'redis') {
    return {
      kind: 'redis',
      url: readText(env, 'REDIS_URL', DEFAULT_REDIS_URL),
      stream: readText(env, 'EVENT_STREAM', DEFAULT_EVENT_STREAM),
      group: readText(env, 'SERVICE_NAME', defaultGroup),
    };
  }
  throw new Error(`EVENT_TRANSPORT must be "in-process", "nats" or "redis", got "${kind}".`);
}

/** For services that only make sense distributed (notifications): `redis` with EVENT_TRANSPORT=redis, else NATS. */
export function brokerConfigFromEnv(env: NodeJS.ProcessEnv, defaultGroup: string): NatsConfig | RedisConfig {
  const config = (env.EVENT_TRANSPORT ?? '').trim() === 'redis' ? transportConfigFromEnv(env, defaultGroup) : natsConfigFromEnv(env, defaultGroup);
  return config as NatsConfig | RedisConfig;
}

/** NATS_URL, EVENT_STREAM and SERVICE_NAME (the group, `defaultGroup` when unset). */
export function natsConfigFromEnv(env: NodeJS.ProcessEnv, defaultGroup: string): NatsConfig {
  return {
    kind: 'nats',
    servers: readText(env, 'NATS_URL', DEFAULT_NATS_URL),
    stream: readText(env, 'EVENT_STREAM', DEFAULT_EVENT_STREAM),
    group: readText(env, 'SERVICE_NAME', defaultGroup),
  };
}

/** on/off (also true/false, 1/0); a typo fails at start-up. */
function readSwitch(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '') return fallback;
  if (['on', 'true', '1'].includes(raw)) return true;
  if (['off', 'false', '0'].includes(raw)) return false;
  throw new Error(`${name} must be "on" or "off", got "${env[name]}".`);
}

function readText(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? fallback : raw;
}

/** A whole number from the environment; a typo fails at start-up rather than meaning "0". */
export function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}".`);
  }
  return value;
}
