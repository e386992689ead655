import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { OptionChecker, type RedeliveryBackoff } from '../transport/transport-options.js';
import { RedisTransportConfigError } from './errors.js';

/** How often and how far the event stream is trimmed. It is never trimmed past an entry some group still needs. */
export interface RedisTrimOptions {
  /** How often to trim. Default 30000. */
  intervalMs?: number;
  /** Keep entries at least this long even once every group acknowledged them (for groups added later, replays). Default 0. */
  minRetentionMs?: number;
}

export interface RedisStreamsTransportOptions {
  /**
   * Where Redis is: a URL ('redis://127.0.0.1:6379', 'rediss://...'), ioredis options, or an ioredis
   * instance of the application's, `Redis` or `Cluster` (used for commands and duplicated for blocking
   * reads; never closed here).
   */
  connection: string | RedisOptions | Redis | Cluster;
  /** Name of the event stream: the keys are `{<stream>}:events` and `{<stream>}:<deadLetterStream>` (one hash slot). */
  stream: string;
  /** The consumer group: each group (service) gets every event; instances of one group share the work. */
  group: string;
  /**
   * This instance's consumer name within the group. Default: host name, process id and a random suffix.
   * A stable name (e.g. a StatefulSet pod name) lets a restarted instance pick up its own pending entries at once.
   */
  consumer?: string;
  /** Shared secret for HMAC-SHA256 signing: unsigned or wrongly signed entries are dead-lettered. Every service must use the same key. */
  signingKey?: string | Uint8Array;
  /** Entries this instance handles at once (each handler's own `concurrency` still applies). Default 256. */
  concurrency?: number;
  /** Entries asked for per XREADGROUP / XAUTOCLAIM (never more than free handling slots). Default 128. */
  batchSize?: number;
  /** How long one XREADGROUP blocks waiting for entries. Lower means more idle reads, never slower delivery. Default 2000. */
  blockMs?: number;
  /**
   * How long an entry must sit unacknowledged in another consumer's pending list before this instance
   * takes it over (XAUTOCLAIM): bounds how long a dead instance holds entries. Live instances refresh
   * their entries every reclaimIdleMs / 4, so long handlers keep theirs. Default 30000 (min 1000).
   */
  reclaimIdleMs?: number;
  /** How often to look for entries of dead consumers. Default reclaimIdleMs / 2. */
  reclaimIntervalMs?: number;
  /**
   * Failed deliveries of one entry before it is dead-lettered (the bus's own retries run inside each).
   * Only failures count: a delivery given back at a graceful close, or lost with a crashed instance, does
   * not (see maxLostDeliveries). Counted in the entry's delivery-state key. Default 5.
   */
  maxDeliveries?: number;
  /**
   * Deliveries of one entry that ended with neither an acknowledgement, a failure nor a release (the
   * instance handling it crashed, or hung past reclaimIdleMs) before it is dead-lettered with reason
   * 'max-deliveries': an entry whose handling kills the process must not loop forever. Default 5.
   */
  maxLostDeliveries?: number;
  /**
   * How long the delivery-state key of an entry being retried (`{<stream>}:delivery-state:<group>:<entry id>`:
   * failure and release counts, handlers already done with it so another instance does not run them again)
   * is kept after its last write. Written only when a delivery fails or is released. Default 24 hours.
   */
  deliveryStateTtlMs?: number;
  /** Delays between redeliveries after a failed handling. Default 1s, doubling, capped at 60s. */
  backoff?: RedeliveryBackoff;
  /** Key suffix of the dead-letter stream, in the event stream's hash slot: `{<stream>}:<deadLetterStream>`. Default 'dead-letters'. */
  deadLetterStream?: string;
  /** Largest serialized payload accepted by `publish` and by the consumer. Default 1 MiB. */
  maxPayloadBytes?: number;
  /** Trimming of acknowledged entries, or false to never trim. Default { intervalMs: 30000, minRetentionMs: 0 }. */
  trim?: RedisTrimOptions | false;
  /** Where a group created for the first time starts: every entry in the stream, or only new ones. Default 'all'. */
  startFrom?: 'all' | 'new';
  /** How long start-up waits for Redis before failing. Default 10000. */
  connectTimeoutMs?: number;
  /** How long `app.close()` lets in-flight entries finish before releasing them to the group. Default 8000. */
  handlingCloseTimeoutMs?: number;
  /** How long `app.close()` then waits for Redis to store what is still being published. Default 8000. */
  publishFlushTimeoutMs?: number;
  /** Sets both handlingCloseTimeoutMs and publishFlushTimeoutMs (each still wins when set). */
  closeTimeoutMs?: number;
}

export interface ResolvedRedisOptions {
  connection: string | RedisOptions | Redis | Cluster;
  stream: string;
  group: string;
  consumer: string | undefined;
  streamKey: string;
  deadLetterKey: string;
  signingKey: Uint8Array | undefined;
  concurrency: number;
  batchSize: number;
  blockMs: number;
  reclaimIdleMs: number;
  reclaimIntervalMs: number;
  keepAliveMs: number;
  maxDeliveries: number;
  maxLostDeliveries: number;
  deliveryStateTtlMs: number;
  backoff: Required<RedeliveryBackoff>;
  maxPayloadBytes: number;
  trim: Required<RedisTrimOptions> | false;
  startFrom: 'all' | 'new';
  connectTimeoutMs: number;
  handlingCloseTimeoutMs: number;
  publishFlushTimeoutMs: number;
}

/** Names that need no quoting anywhere: no braces (they would change the hash slot), spaces or control characters. */
const NAME = /^[A-Za-z0-9_.:-]+$/;
const check = new OptionChecker('RedisStreamsTransport', RedisTransportConfigError);

export function resolveRedisOptions(options: RedisStreamsTransportOptions): ResolvedRedisOptions {
  if (options === null || typeof options !== 'object') {
    check.fail('new RedisStreamsTransport({ connection, stream, group }) needs an options object.');
  }
  const connection = options.connection;
  if (typeof connection === 'string' ? !/^rediss?:\/\//.test(connection) : connection === null || typeof connection !== 'object') {
    check.fail("`connection` must be a redis:// or rediss:// URL, ioredis options, or an ioredis instance (e.g. 'redis://127.0.0.1:6379').");
  }
  name('stream', options.stream);
  name('group', options.group);
  if (options.consumer !== undefined) name('consumer', options.consumer);
  const deadLetterStream = options.deadLetterStream ?? 'dead-letters';
  name('deadLetterStream', deadLetterStream);
  if (deadLetterStream === 'events') check.fail("`deadLetterStream` must differ from 'events' (the event stream's key suffix).");
  const reclaimIdleMs = check.atLeast('reclaimIdleMs', options.reclaimIdleMs, 30_000, 1000);
  const trim = options.trim;
  const closeTimeoutMs = check.nonNegative('closeTimeoutMs', options.closeTimeoutMs, 8000);
  if (trim !== undefined && trim !== false && (trim === null || typeof trim !== 'object')) check.fail('`trim` must be an object ({ intervalMs, minRetentionMs }) or false.');
  return {
    connection,
    stream: options.stream,
    group: options.group,
    consumer: options.consumer,
    streamKey: `{${options.stream}}:events`,
    deadLetterKey: `{${options.stream}}:${deadLetterStream}`,
    signingKey: check.signingKey(options.signingKey),
    concurrency: check.count('concurrency', options.concurrency, 256),
    batchSize: check.count('batchSize', options.batchSize, 128),
    blockMs: check.count('blockMs', options.blockMs, 2000),
    reclaimIdleMs,
    reclaimIntervalMs: check.positive('reclaimIntervalMs', options.reclaimIntervalMs, reclaimIdleMs / 2),
    // Well inside reclaimIdleMs: a live instance's entry is refreshed three times before anyone may take it.
    keepAliveMs: reclaimIdleMs / 4,
    maxDeliveries: check.count('maxDeliveries', options.maxDeliveries, 5),
    maxLostDeliveries: check.count('maxLostDeliveries', options.maxLostDeliveries, 5),
    deliveryStateTtlMs: check.positive('deliveryStateTtlMs', options.deliveryStateTtlMs, 24 * 60 * 60 * 1000),
    backoff: check.backoff('backoff', options.backoff),
    maxPayloadBytes: check.count('maxPayloadBytes', options.maxPayloadBytes, 1024 * 1024),
    trim:
      trim === false
        ? false
        : {
            intervalMs: check.positive('trim.intervalMs', trim?.intervalMs, 30_000),
            minRetentionMs: check.nonNegative('trim.minRetentionMs', trim?.minRetentionMs, 0),
          },
    startFrom: check.oneOf('startFrom', options.startFrom, ['all', 'new'], 'all'),
    connectTimeoutMs: check.positive('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    handlingCloseTimeoutMs: check.nonNegative('handlingCloseTimeoutMs', options.handlingCloseTimeoutMs, closeTimeoutMs),
    publishFlushTimeoutMs: check.nonNegative('publishFlushTimeoutMs', options.publishFlushTimeoutMs, closeTimeoutMs),
  };
}

function name(option: string, value: unknown): void {
  if (typeof value !== 'string' || !NAME.test(value) || value.length > 200) {
    check.fail(`\`${option}\` must be a non-empty name of letters, digits, '-', '_', '.' and ':' (no braces or spaces; got ${JSON.stringify(value)}).`);
  }
}
