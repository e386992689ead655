import type { RedisStreamsTransport, RedisTransportStatus } from './redis-streams.transport.js';

/** The shape `@nestjs/terminus` expects from an indicator: `{ [key]: { status: 'up' | 'down', ...details } }`. */
export type RedisHealthResult<Key extends string = string> = Record<Key, { status: 'up' | 'down' } & RedisTransportStatus>;

/**
 * Thrown by `isHealthy` when the connection is down. Terminus recognises it the way it recognises its
 * own HealthCheckError (`isHealthCheckError` and `causes`), so the check reports 503 with these details
 * instead of a 500, without this library importing terminus.
 */
export class RedisHealthCheckError extends Error {
  readonly isHealthCheckError = true;

  constructor(
    message: string,
    readonly causes: RedisHealthResult,
  ) {
    super(message);
    this.name = 'RedisHealthCheckError';
  }
}

/**
 * Reports whether the Redis Streams transport is connected, for `@nestjs/terminus`:
 *
 * ```ts
 * const transport = new RedisStreamsTransport({ ... });
 * // providers: [{ provide: RedisHealthIndicator, useValue: new RedisHealthIndicator(transport) }]
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.redis.isHealthy('redis')]); }
 * ```
 */
export class RedisHealthIndicator {
  constructor(private readonly transport: RedisStreamsTransport) {}

  /** Up while both connections are ready (reconnecting, closed or never opened are down). Never throws. */
  check<Key extends string = 'redis'>(key: Key = 'redis' as Key): RedisHealthResult<Key> {
    const status = this.transport.status();
    return { [key]: { status: status.state === 'connected' ? 'up' : 'down', ...status } } as RedisHealthResult<Key>;
  }

  /** Terminus's convention: resolves the result when up, throws RedisHealthCheckError (with the result as `causes`) when down. */
  async isHealthy<Key extends string = 'redis'>(key: Key = 'redis' as Key): Promise<RedisHealthResult<Key>> {
    const result = this.check(key);
    const details = result[key];
    if (details.status === 'down') {
      throw new RedisHealthCheckError(`Redis is ${details.state}${details.lastError === undefined ? '' : `: ${details.lastError}`}`, result);
    }
    return result;
  }
}
