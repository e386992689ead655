import type { NatsJetStreamTransport, NatsTransportStatus } from './nats-jetstream.transport.js';

/** The shape `@nestjs/terminus` expects from an indicator: `{ [key]: { status: 'up' | 'down', ...details } }`. */
export type NatsHealthResult<Key extends string = string> = Record<Key, { status: 'up' | 'down' } & NatsTransportStatus>;

/**
 * Thrown by `isHealthy` when the connection is down. Terminus recognises it the way it recognises its
 * own HealthCheckError (`isHealthCheckError` and `causes`), so the check reports 503 with these details
 * instead of a 500, without this library importing terminus.
 */
export class NatsHealthCheckError extends Error {
  readonly isHealthCheckError = true;

  constructor(
    message: string,
    readonly causes: NatsHealthResult,
  ) {
    super(message);
    this.name = 'NatsHealthCheckError';
  }
}

/**
 * Reports whether the NATS transport is connected, for `@nestjs/terminus`:
 *
 * ```ts
 * const transport = new NatsJetStreamTransport({ ... });
 * // providers: [{ provide: NatsHealthIndicator, useValue: new NatsHealthIndicator(transport) }]
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.nats.isHealthy('nats')]); }
 * ```
 */
export class NatsHealthIndicator {
  constructor(private readonly transport: NatsJetStreamTransport) {}

  /**
   * Up while connected, pulling works and dead letters can be written (a reconnect in progress, a closed
   * or never-opened connection, failing pulls or dead letters are down). Never throws.
   */
  check<Key extends string = 'nats'>(key: Key = 'nats' as Key): NatsHealthResult<Key> {
    const status = this.transport.status();
    const up = status.state === 'connected' && status.consumerError === undefined && status.deadLetterError === undefined;
    return { [key]: { status: up ? 'up' : 'down', ...status } } as NatsHealthResult<Key>;
  }

  /** Terminus's convention: resolves the result when up, throws NatsHealthCheckError (with the result as `causes`) when down. */
  async isHealthy<Key extends string = 'nats'>(key: Key = 'nats' as Key): Promise<NatsHealthResult<Key>> {
    const result = this.check(key);
    const details = result[key];
    if (details.status === 'down') {
      const problem = details.state !== 'connected' ? details.lastError : (details.consumerError ?? details.deadLetterError);
      throw new NatsHealthCheckError(`NATS is ${details.state === 'connected' ? 'failing' : details.state}${problem === undefined ? '' : `: ${problem}`}`, result);
    }
    return result;
  }
}
