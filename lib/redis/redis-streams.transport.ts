import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { LoggerService } from '@nestjs/common';
import type { EventEnvelope } from '../event-envelope.js';
import type { EventTransport, TransportHost } from '../transport/event-transport.interface.js';
import { FieldEnvelopeCodec } from '../transport/field-envelope-codec.js';
import { MessageSigner } from '../transport/message-signer.js';
import { PublishPipeline } from './entry-batchers.js';
import { RedisConnections, settlesWithin } from './redis-connections.js';
import { resolveRedisOptions, type RedisStreamsTransportOptions, type ResolvedRedisOptions } from './redis-streams-transport.options.js';
import { RedisDeadLetterStore } from './redis-dead-letter.store.js';
import { StreamConsumer } from './stream-consumer.js';

export interface RedisTransportStatus {
  /** 'connected', or the ioredis connection status ('connecting', 'reconnecting', 'end', ...), or 'idle' before first use. */
  state: string;
  stream: string;
  group: string;
  consumer: string;
  /** True while the group's entries are being read. */
  consuming: boolean;
  /** Entries being handled by this instance. */
  inFlight: number;
  /** Publishes not yet stored by Redis. */
  pendingPublishes: number;
  lastError?: string;
}

/**
 * Carries events between processes over Redis Streams: one stream per `stream` name, one consumer
 * group per service (`group`), instances of a group competing for its entries. An entry is acknowledged
 * only once every local handler succeeded or was dead-lettered, and the events those handlers published
 * were stored (the bus holds the delivery for them); failed handling is delivered again with backoff (the entry stays pending, never re-added),
 * then moved to the dead-letter stream together with its acknowledgement.
 *
 * ```ts
 * EventBusModule.forRoot({
 *   transport: new RedisStreamsTransport({ connection: 'redis://127.0.0.1:6379', stream: 'events', group: 'orders-service' }),
 * })
 * ```
 */
export class RedisStreamsTransport implements EventTransport {
  readonly name = 'redis';
  /** Private: it holds the signing key. */
  private readonly options: Readonly<ResolvedRedisOptions>;
  private readonly codec: FieldEnvelopeCodec;
  private readonly consumerName: string;
  private connections: RedisConnections | undefined;
  private publisher: PublishPipeline | undefined;
  private consumer: StreamConsumer | undefined;
  private host: TransportHost | undefined;
  private closePromise: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisStreamsTransportOptions) {
    this.options = resolveRedisOptions(options);
    const signer = this.options.signingKey === undefined ? undefined : new MessageSigner(this.options.signingKey);
    this.codec = new FieldEnvelopeCodec(this.options.streamKey, 'Redis', this.options.maxPayloadBytes, signer);
    this.consumerName = this.options.consumer ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  // ---------------------------------------------------------------- publishing

  /** Called inside `publish`: serializes once, and refuses what cannot travel with InvalidEventError. */
  prepare(envelope: EventEnvelope): string[] {
    return this.codec.encode(envelope);
  }

  /** Resolves once Redis stored the entry (XADD, pipelined with the other publishes of this turn). */
  send(_envelope: EventEnvelope, prepared: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the Redis Streams transport is closed'));
    return this.pipeline().add(prepared as string[]);
  }

  private pipeline(): PublishPipeline {
    this.publisher ??= new PublishPipeline(() => this.connect().commands, this.options.streamKey);
    return this.publisher;
  }

  // ---------------------------------------------------------------- consuming

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    const connections = this.connect();
    try {
      await connections.ready(this.options.connectTimeoutMs);
      await connections.checkServer();
    } catch (error) {
      // Nothing keeps retrying in the background after a refused start.
      this.connections = undefined;
      await connections.close();
      throw error;
    }
    if (this.closed) return;
    const consumer = new StreamConsumer({
      host,
      connections,
      codec: this.codec,
      options: this.options,
      consumer: this.consumerName,
    });
    await consumer.ensureGroup(this.options.startFrom === 'new' ? '$' : '0');
    this.consumer = consumer;
    await consumer.start();
  }

  private connect(): RedisConnections {
    this.connections ??= new RedisConnections(this.options.connection, `nestjs-event-bus:${this.options.group}`, () => this.logger);
    return this.connections;
  }

  // ---------------------------------------------------------------- shutdown and status

  /**
   * Stops reading, lets in-flight entries finish (releasing them after handlingCloseTimeoutMs), then waits
   * up to publishFlushTimeoutMs for publishes (follow-ups of the entries just finished included), then disconnects.
   */
  close(): Promise<void> {
    return (this.closePromise ??= this.runClose());
  }

  private async runClose(): Promise<void> {
    const { handlingCloseTimeoutMs, publishFlushTimeoutMs } = this.options;
    await this.consumer?.close(Date.now() + handlingCloseTimeoutMs);
    if (this.publisher !== undefined && (await settlesWithin(this.publisher.whenIdle(), publishFlushTimeoutMs)) !== true) {
      const lost = this.publisher.abort('the Redis Streams transport closed before Redis stored the event');
      this.logger.error(`${lost} events were not stored by Redis within publishFlushTimeoutMs (${publishFlushTimeoutMs}ms) and may be lost.`);
    }
    this.closed = true;
    await this.connections?.close();
  }

  /** This group's dead letters, for `DeadLetters` (list, inspect, redrive, purge). */
  deadLetterStore(): RedisDeadLetterStore {
    return new RedisDeadLetterStore({ connections: () => this.connect(), options: this.options, codec: this.codec, host: () => this.host });
  }

  /** Connection and consumer state, for health checks and dashboards. */
  /** For telemetry (`messaging.consumer.group.name`). */
  get consumerGroup(): string {
    return this.options.group;
  }

  /** For telemetry: entries this instance is handling now. */
  inFlightMessages(): number {
    return this.consumer?.inFlightCount ?? 0;
  }

  status(): RedisTransportStatus {
    const c = this.connections;
    const state = c === undefined ? (this.closed ? 'end' : 'idle') : c.connected ? 'connected' : c.state;
    return {
      state,
      stream: this.options.stream,
      group: this.options.group,
      consumer: this.consumerName,
      consuming: this.consumer?.reading === true,
      inFlight: this.consumer?.inFlightCount ?? 0,
      pendingPublishes: this.publisher?.pending ?? 0,
      ...(c?.lastError === undefined ? {} : { lastError: c.lastError }),
    };
  }

  private get logger(): LoggerService {
    return this.host?.logger ?? consoleLogger;
  }
}

const consoleLogger: LoggerService = {
  log: (message: string) => console.log(message),
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
