import { jetstream, jetstreamManager, type Consumer, type JetStreamManager } from '@nats-io/jetstream';
import { connect, InvalidArgumentError, type NatsConnection } from '@nats-io/transport-node';
import type { LoggerService } from '@nestjs/common';
import { BackpressureError, InvalidEventError } from '../errors.js';
import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import type { EventTransport, TransportHost } from '../transport/event-transport.interface.js';
import { DeadLetterer } from './dead-letterer.js';
import { DeliveryLedger } from './delivery-ledger.js';
import { EnvelopeCodec, type EncodedEvent } from './envelope-codec.js';
import { NatsTransportConfigError } from './errors.js';
import { ensureConsumer, ensureStream, type StreamSettings } from './jetstream-provisioner.js';
import { MessageSigner } from '../transport/message-signer.js';
import { NatsGroupConsumer, settlesWithin } from './nats-group-consumer.js';
import { resolveNatsOptions, type NatsJetStreamTransportOptions, type ResolvedNatsOptions } from './nats-jetstream-transport.options.js';
import { ReliablePublisher } from './reliable-publisher.js';
import { SignatureScope } from './signature-scope.js';
import { NatsDeadLetterStore } from './nats-dead-letter.store.js';
import { describeNatsTransport } from './nats-transport-description.js';
import type { TransportDescription } from '../transport/transport-description.interface.js';

/** Where the connection stands, for health checks. */
export type NatsConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed' | 'failed';

export interface NatsTransportStatus {
  state: NatsConnectionState;
  /** The server currently connected to, when connected. */
  server?: string;
  stream: string;
  group: string;
  /** True while the group's consumer is pulling messages. */
  consuming: boolean;
  /** Messages being handled by this instance. */
  inFlight: number;
  /** Publishes not yet acknowledged by the server. */
  pendingPublishes: number;
  /** The last connection error, if any. */
  lastError?: string;
  /** Set while pulls fail (the consumer or stream deleted, no permission, ...); the health indicator reports down. */
  consumerError?: string;
  /** Set while dead letters cannot be written; the health indicator reports down. */
  deadLetterError?: string;
}

interface Connected {
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/** Dead-connection detection by default: a ping every 10 s, down after 2 unanswered (inside the duplicate window). */
const PING_INTERVAL_MS = 10_000;
const MAX_PINGS_OUT = 2;

/** A publish refused because too many are already waiting for the server (maxBufferedPublishes). */
export class NatsBackpressureError extends BackpressureError {
  constructor(eventName: string, limit: number) {
    super(eventName, limit);
    this.message =
      `Cannot publish "${eventName}": ${limit} publishes are already waiting for the NATS server's acknowledgement (maxBufferedPublishes); ` +
      'the server is unreachable or slower than the producer. Slow the producer down (await publishAndWait), or raise maxBufferedPublishes.';
  }
}

/**
 * Carries events between processes over NATS JetStream: one stream of events, one durable pull consumer
 * per group (service), instances of a group competing for its messages. A message is acknowledged only
 * once every local handler succeeded or was dead-lettered; failed handling is redelivered with backoff,
 * then dead-lettered with the error; malformed or forged messages go straight to the dead letters.
 *
 * ```ts
 * EventBusModule.forRoot({
 *   transport: new NatsJetStreamTransport({ servers: 'nats://127.0.0.1:4222', stream: 'EVENTS', group: 'orders-service' }),
 * })
 * ```
 */
export class NatsJetStreamTransport implements EventTransport {
  readonly name = 'nats';
  /** Private: it holds the signing key. */
  private readonly options: Readonly<ResolvedNatsOptions>;
  private readonly codec: EnvelopeCodec;
  private readonly publisher: ReliablePublisher;
  private readonly ledger: DeliveryLedger;
  private readonly deadLetterer: DeadLetterer;
  private connection: Promise<Connected> | undefined;
  /** Publishes (events, dead letters, delivery records) and stream set-up. */
  private nc: NatsConnection | undefined;
  /**
   * Pulls and acknowledgements, on a connection of their own: on the publishing connection a pull
   * request would queue behind every publish awaiting its acknowledgement, and consuming would crawl
   * while the process publishes.
   */
  private consumerNc: NatsConnection | undefined;
  /** Connections currently disconnected (the client is reconnecting them). */
  private readonly disconnected = new Set<NatsConnection>();
  private host: TransportHost | undefined;
  private consumer: NatsGroupConsumer | undefined;
  private state: NatsConnectionState = 'idle';
  private lastError: string | undefined;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  constructor(options: NatsJetStreamTransportOptions) {
    this.options = resolveNatsOptions(options);
    const { signingKey, stream, signatureMaxAgeMs, clockSkewMs, subjectPrefix, maxPayloadBytes } = this.options;
    const signer = signingKey === undefined ? undefined : new MessageSigner(signingKey);
    this.codec = new EnvelopeCodec(subjectPrefix, maxPayloadBytes, signer, new SignatureScope(stream, signatureMaxAgeMs, clockSkewMs));
    const publishing = () => this.connect().then((c) => c.nc);
    this.publisher = new ReliablePublisher(publishing, this.options.maxPendingPublishes, () => this.host?.logger);
    this.ledger = new DeliveryLedger(publishing, this.options.deliveryStateBucket, this.options.deliveryStateTtlMs, this.options.group, this.options.streamConfig.num_replicas);
    this.deadLetterer = new DeadLetterer(
      this.publisher,
      `${this.options.deadLetterSubjectPrefix}.${this.options.group}`,
      this.options.group,
      stream,
      this.options.deadLetterTimeoutMs,
      async () => {
        await this.ensureDeadLetterStream((await this.connect()).jsm);
      },
      () => this.logger,
    );
  }

  // ---------------------------------------------------------------- publishing

  /**
   * Called inside `publish`: serializes once, and refuses what cannot travel with InvalidEventError
   * (headers counted against the server's max_payload), and what cannot be buffered with BackpressureError.
   */
  prepare(envelope: EventEnvelope): EncodedEvent {
    if (this.publisher.pending >= this.options.maxBufferedPublishes) {
      throw new NatsBackpressureError(describeEventName(envelope.name), this.options.maxBufferedPublishes);
    }
    const serverMax = this.nc?.info?.max_payload;
    return this.codec.encode(envelope, serverMax === undefined ? Infinity : serverMax);
  }

  /** Resolves once JetStream acknowledged the message (retrying meanwhile). */
  send(envelope: EventEnvelope, prepared: unknown): Promise<void> {
    return this.publisher.publish(prepared as EncodedEvent).catch((error: unknown) => {
      // Published before the server's max_payload was known: the client refuses it now.
      if (error instanceof InvalidArgumentError && error.message.includes('max_payload')) {
        throw new InvalidEventError(`Cannot publish ${describeEventName(envelope.name)} through NATS: ${error.message}. Send less, or raise max_payload.`);
      }
      throw error;
    });
  }

  /** Publishes accepted by `publish` and not yet acknowledged by the server (what maxBufferedPublishes bounds). */
  get pendingSends(): number {
    return this.publisher.pending;
  }

  // ---------------------------------------------------------------- consuming

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    try {
      await this.startConsuming(host);
    } catch (error) {
      // Nothing is left open by a start-up that failed once connected (e.g. a consumer with settings
      // this cannot use). One that could not connect leaves nothing open, and may be tried again.
      if (this.nc !== undefined) await this.close();
      throw error;
    }
  }

  private async startConsuming(host: TransportHost): Promise<void> {
    const { jsm } = await this.connect();
    await this.provisionConsumer(jsm);
    await this.ledger.open();
    if (this.closing) return;
    this.consumerNc = await this.openNatsConnection('consume');
    if (this.closing) {
      await this.consumerNc.close();
      return;
    }
    const consumer = await this.lookUpConsumer();
    // close() may have run while the consumer was being looked up: start nothing it would not stop.
    if (this.closing) return;
    this.consumer = new NatsGroupConsumer(consumer, this.options, this.codec, this.ledger, this.deadLetterer, host, () => this.recoverConsumer());
    this.consumer.start();
  }

  private lookUpConsumer(): Promise<Consumer> {
    return jetstream(this.consumerNc!).consumers.get(this.options.stream, this.options.group);
  }

  /** After failed pulls: recreates the stream and the consumer if they were deleted on the server. */
  private async recoverConsumer(): Promise<Consumer> {
    const { jsm } = await this.connect();
    await ensureStream(jsm, { name: this.options.stream, subjectPrefix: this.options.subjectPrefix, config: this.options.streamConfig });
    if ((await this.provisionConsumer(jsm)) === 'created') {
      this.logger.warn(`The NATS consumer "${this.options.group}" on stream "${this.options.stream}" was missing on the server; created it again.`);
    }
    return this.lookUpConsumer();
  }

  private async provisionConsumer(jsm: JetStreamManager): Promise<'created' | 'unchanged' | 'updated'> {
    const { stream, group, subjectPrefix, ackWaitMs, maxAckPending, deliverPolicy } = this.options;
    const outcome = await ensureConsumer(jsm, { stream, group, subjectPrefix, ackWaitMs, maxAckPending, deliverPolicy });
    if (outcome === 'updated') {
      this.logger.warn(`Updated the settings of the NATS consumer "${group}" on stream "${stream}" to this transport's (ack wait, max ack pending, max deliver, backoff).`);
    }
    return outcome;
  }

  // ---------------------------------------------------------------- connection and set-up

  private connect(): Promise<Connected> {
    this.connection ??= this.openConnection().catch((error: unknown) => {
      // Let a later call try again (the server may come up).
      this.connection = undefined;
      throw error;
    });
    return this.connection;
  }

  private async openConnection(): Promise<Connected> {
    if (this.closing) throw new Error('the NATS transport is closed');
    this.state = 'connecting';
    const nc = await this.openNatsConnection('publish');
    this.nc = nc;
    try {
      const jsm = await jetstreamManager(nc);
      const settings = await ensureStream(jsm, { name: this.options.stream, subjectPrefix: this.options.subjectPrefix, config: this.options.streamConfig });
      this.checkDuplicateWindow(settings);
      await this.ensureDeadLetterStream(jsm);
      this.state = 'connected';
      return { nc, jsm };
    } catch (error) {
      await nc.close().catch(() => undefined);
      this.nc = undefined;
      this.state = 'failed';
      this.lastError = String(error);
      if (error instanceof NatsTransportConfigError) throw error;
      throw new NatsTransportConfigError(
        `NATS at ${this.options.servers.join(', ')} is reachable but JetStream could not be set up: ${String(error)}. ` +
          'Start the server with JetStream enabled (nats-server -js) and check the account has JetStream access.',
      );
    }
  }

  private async ensureDeadLetterStream(jsm: JetStreamManager): Promise<void> {
    const { deadLetterStream, deadLetterSubjectPrefix, streamConfig } = this.options;
    const config = streamConfig.num_replicas === undefined ? {} : { num_replicas: streamConfig.num_replicas };
    await ensureStream(jsm, { name: deadLetterStream, subjectPrefix: deadLetterSubjectPrefix, config });
  }

  /**
   * Re-sends stop inside the stream's duplicate window, and a signature's freshness bound must fit in
   * it (or a replay just past the window would verify).
   */
  private checkDuplicateWindow({ duplicateWindowMs }: StreamSettings): void {
    this.publisher.boundResends(duplicateWindowMs);
    const { signingKey, signatureMaxAgeMs, clockSkewMs, stream } = this.options;
    if (signingKey !== undefined && signatureMaxAgeMs + 2 * clockSkewMs > duplicateWindowMs) {
      throw new NatsTransportConfigError(
        `NatsJetStreamTransport: signatureMaxAgeMs (${signatureMaxAgeMs}) + 2 x clockSkewMs (${clockSkewMs}) exceeds the duplicate_window of stream "${stream}" ` +
          `(${duplicateWindowMs}ms): a signed message replayed just after the window would be accepted. Lower them, or raise duplicate_window.`,
      );
    }
    const ping = this.options.connectionOptions.pingInterval ?? PING_INTERVAL_MS;
    const detectionMs = ping * ((this.options.connectionOptions.maxPingOut ?? MAX_PINGS_OUT) + 1);
    if (detectionMs * 2 > duplicateWindowMs) {
      this.logger.warn(
        `A dead NATS connection is detected only after ~${detectionMs}ms (pingInterval x (maxPingOut + 1)), too close to the duplicate_window of stream "${stream}" ` +
          `(${duplicateWindowMs}ms): publishes caught in a dead connection may not be re-sent in time. Lower pingInterval, or raise duplicate_window.`,
      );
    }
  }

  private async openNatsConnection(role: 'publish' | 'consume'): Promise<NatsConnection> {
    const { servers, group, connectionOptions } = this.options;
    try {
      const nc = await connect({
        name: `nestjs-event-bus:${group}:${role}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        pingInterval: PING_INTERVAL_MS,
        maxPingOut: MAX_PINGS_OUT,
        // The client otherwise captures a stack trace for every request it makes; not worth it here.
        noAsyncTraces: true,
        ...connectionOptions,
        servers,
      });
      void this.watchStatus(nc);
      return nc;
    } catch (error) {
      this.state = 'failed';
      this.lastError = String(error);
      throw new NatsTransportConfigError(
        `Could not connect to NATS at ${servers.join(', ')}: ${String(error)}. ` +
          'Check that the server is running and reachable, and the `servers` option (and credentials in connectionOptions).',
      );
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
        case 'reconnecting':
          this.disconnected.add(nc);
          break;
        case 'reconnect':
          this.disconnected.delete(nc);
          this.logger.log(`Reconnected to NATS at ${nc.getServer()}.`);
          break;
        case 'error':
          this.lastError = String(status.error);
          break;
        default:
          break;
      }
    }
    this.disconnected.delete(nc);
  }

  // ---------------------------------------------------------------- shutdown and status

  /**
   * Closes in this order: (1) stop pulling; (2) let in-flight messages finish for up to
   * handlingCloseTimeoutMs, then release the rest to the server (redelivered after a second, each release
   * recorded meanwhile, so it costs no delivery budget); (3) drain the consuming connection
   * (acknowledgements and releases flushed); (4) wait up to publishFlushTimeoutMs for the server to acknowledge every publish still waiting (the
   * follow-ups of the handlers that just finished included); (5) drain the publishing connection.
   */
  close(): Promise<void> {
    return (this.closePromise ??= this.runClose());
  }

  private async runClose(): Promise<void> {
    this.closing = true;
    const { handlingCloseTimeoutMs, publishFlushTimeoutMs } = this.options;
    // A start-up that failed closes what it opened, and status() keeps saying why: 'failed'.
    const failed = this.state === 'failed';
    if (!failed) this.state = this.nc === undefined ? 'closed' : 'closing';
    await this.consumer?.stop(handlingCloseTimeoutMs);
    // Draining unsubscribes the open pulls and waits for what was already on the wire (released by the
    // consumer), then flushes the acknowledgements.
    await drainConnection(this.consumerNc, Date.now() + 1000);
    const flushDeadline = Date.now() + publishFlushTimeoutMs;
    // The releases' records go out on the publishing connection.
    if (this.consumer !== undefined) await settlesWithin(this.consumer.whenReleased(), publishFlushTimeoutMs);
    if (!(await settlesWithin(this.publisher.whenIdle(), publishFlushTimeoutMs))) {
      const lost = this.publisher.stop('the NATS transport closed before the server acknowledged the message');
      this.logger.error(
        `${lost} events were not acknowledged by NATS within publishFlushTimeoutMs (${publishFlushTimeoutMs}ms) and may be lost.`,
      );
    } else {
      this.publisher.stop('the NATS transport is closed');
    }
    await drainConnection(this.nc, flushDeadline);
    this.state = failed ? 'failed' : 'closed';
  }

  /** This group's dead letters, for `DeadLetters` (list, inspect, redrive, purge). */
  deadLetterStore(): NatsDeadLetterStore {
    return new NatsDeadLetterStore({ connection: () => this.connect(), options: this.options, codec: this.codec, host: () => this.host });
  }

  /** Servers, group and subjects, for the AsyncAPI document. */
  describe(): TransportDescription {
    return describeNatsTransport(this.options, this.codec);
  }

  /** For telemetry (`messaging.consumer.group.name`). */
  get consumerGroup(): string {
    return this.options.group;
  }

  /** For telemetry: messages this instance is handling now. */
  inFlightMessages(): number {
    return this.consumer?.handling ?? 0;
  }

  /** For telemetry: messages of the group's consumer not yet delivered (JetStream's num_pending), if reachable. */
  consumerLag(): Promise<number | undefined> {
    return this.consumer === undefined || this.closing ? Promise.resolve(undefined) : this.consumer.lag();
  }

  /** Connection and consumer state, for health checks and dashboards. */
  status(): NatsTransportStatus {
    const nc = this.nc;
    let state = this.state;
    if (state === 'connected' && this.disconnected.size !== 0) state = 'reconnecting';
    if (state === 'connected' && nc !== undefined && nc.isClosed()) state = 'closed';
    const consumerError = this.consumer?.error;
    const deadLetterError = this.deadLetterer.error;
    return {
      state,
      ...(state === 'connected' && nc !== undefined ? { server: nc.getServer() } : {}),
      stream: this.options.stream,
      group: this.options.group,
      consuming: this.consumer !== undefined && !this.closing && this.consumer.pulling,
      inFlight: this.consumer?.handling ?? 0,
      pendingPublishes: this.publisher.pending,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
      ...(consumerError === undefined ? {} : { consumerError }),
      ...(deadLetterError === undefined ? {} : { deadLetterError }),
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

/**
 * drain() flushes what is buffered; it cannot finish while disconnected, so close() after the deadline.
 * A drain that failed (e.g. refused while reconnecting) leaves the connection open and reconnecting
 * forever: close it then too.
 */
async function drainConnection(nc: NatsConnection | undefined, deadline: number): Promise<void> {
  if (nc === undefined || nc.isClosed()) return;
  await settlesWithin(nc.drain(), Math.max(1000, deadline - Date.now()));
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
