import { Redis, type Cluster, type RedisOptions } from 'ioredis';
import type { LoggerService } from '@nestjs/common';
import { RedisTransportConfigError } from './errors.js';
import { withScripts, type StreamScripts } from './redis-scripts.js';

/** XAUTOCLAIM and XTRIM MINID: Redis 6.2. */
const MIN_VERSION = [6, 2];

/** What `connection` was: ours to close, or the application's. */
export function isRedisInstance(connection: unknown): connection is Redis | Cluster {
  const c = connection as Partial<Redis> | null;
  return c !== null && typeof c === 'object' && typeof c.xadd === 'function' && typeof c.duplicate === 'function';
}

/**
 * The transport's two connections: one for commands (publishes, acknowledgements, scripts), shared with
 * the application when it passed its own instance, and one of our own for XREADGROUP BLOCK, which holds
 * its connection while it waits.
 */
export class RedisConnections {
  readonly commands: Redis & StreamScripts;
  private reader: (Redis & StreamScripts) | undefined;
  private readonly owned: boolean;
  lastError: string | undefined;

  constructor(
    connection: string | RedisOptions | Redis | Cluster,
    private readonly clientName: string,
    private readonly logger: () => LoggerService,
  ) {
    this.owned = !isRedisInstance(connection);
    const own: RedisOptions = {
      connectionName: clientName,
      // Commands wait through a reconnect instead of failing after 20 tries: a publish resolves once Redis has it.
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(100 * times, 2000),
    };
    // A Cluster offers the same commands (routed by key: every key of a stream shares one hash slot).
    const client = isRedisInstance(connection)
      ? (connection as Redis)
      : typeof connection === 'string'
        ? new Redis(connection, own)
        : new Redis({ ...own, ...connection });
    this.watch(client);
    this.commands = withScripts(client);
  }

  get description(): string {
    const o = this.commands.options;
    return `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  }

  /** Resolves once Redis answers, or fails with a message saying what to check. */
  async ready(timeoutMs: number): Promise<void> {
    const answered = await settlesWithin(this.commands.ping(), timeoutMs);
    if (answered !== true) {
      throw new RedisTransportConfigError(
        `Could not reach Redis at ${this.description} within ${timeoutMs}ms (${this.lastError ?? (answered === false ? 'no answer' : String(answered))}). ` +
          'Check that the server is running and reachable, and the `connection` option (host, port, password, TLS).',
      );
    }
  }

  /** Refuses servers without the commands the transport needs; warns when Redis may evict the streams. */
  async checkServer(): Promise<void> {
    const info = await this.commands.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version !== null) {
      const [major, minor] = [Number(version[1]), Number(version[2])];
      if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
        throw new RedisTransportConfigError(
          `Redis at ${this.description} is ${major}.${minor}; the Redis Streams transport needs 6.2 or later (XAUTOCLAIM, XTRIM MINID). Upgrade the server.`,
        );
      }
    }
    let policy: string | undefined;
    try {
      const reply = (await this.commands.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch {
      // CONFIG is often disabled on managed Redis: nothing to check then.
    }
    if (policy !== undefined && policy.startsWith('allkeys-')) {
      this.logger().warn(
        `Redis at ${this.description} has maxmemory-policy ${policy}: under memory pressure it may evict the event streams, ` +
          'losing events and consumer groups. Set maxmemory-policy noeviction for servers that carry events.',
      );
    }
  }

  /** The blocking-read connection (created on first use). */
  async blockingReader(): Promise<Redis & StreamScripts> {
    if (this.reader === undefined) {
      // Its own connection; a read interrupted by a disconnect fails (its entries are then re-read from the pending list).
      const reader = this.commands.duplicate({ connectionName: `${this.clientName}:read`, autoResendUnfulfilledCommands: false, maxRetriesPerRequest: null });
      this.watch(reader);
      this.reader = withScripts(reader);
    }
    return this.reader;
  }

  get connected(): boolean {
    return this.commands.status === 'ready' && (this.reader === undefined || this.reader.status === 'ready');
  }

  get state(): string {
    if (this.commands.status !== 'ready') return this.commands.status;
    return this.reader?.status ?? 'ready';
  }

  /** Closes the reader, and the command connection unless it is the application's. */
  async close(): Promise<void> {
    const reader = this.reader;
    this.reader = undefined;
    if (reader !== undefined) await quit(reader);
    if (this.owned) await quit(this.commands);
  }

  private watch(client: Redis): void {
    // Without a listener ioredis prints every connection error; keep the last one for health and start-up messages.
    client.on('error', (error: Error) => (this.lastError = error.message));
  }
}

async function quit(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready' || (await settlesWithin(client.quit(), 2000)) !== true) client.disconnect();
}

/** True when `promise` resolved within `ms`, false when it did not settle, else the rejection. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<true | false | unknown> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true as const, (error: unknown) => error), expired]);
  } finally {
    clearTimeout(timer);
  }
}
