import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { connect, InvalidArgumentError, nanos, type NatsConnection } from '@nats-io/transport-node';
import type { LoggerService } from '@nestjs/common';
import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { EventTransport, TransportHost } from '../transport/event-transport.interface.js';
import { AckBatcher } from './ack-batcher.js';
import { deadLetterMessage, type DeadLetter } from './dead-letter-message.js';
import { EnvelopeCodec, type EncodedEvent } from './envelope-codec.js';
import { NatsTransportConfigError, PoisonMessageError } from './errors.js';
import { MessageSigner } from './message-signer.js';
import {
  redeliveryDelay,
  resolveNatsOptions,
  type NatsJetStreamTransportOptions,
  type ResolvedNatsOptions,
} from './nats-jetstream-transport.options.js';
import { ReliablePublisher } from './reliable-publisher.js';
import { SettledHandlersMemory } from './settled-handlers.memory.js';
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
}

interface Connected {
  nc: NatsConnection;
  jsm: JetStreamManager;
}

/** Room left for headers when checking a payload against the server's max_payload. */
const HEADER_ALLOWANCE = 4096;
const RETRY_PULL_MS = 1000;
const DEAD_LETTER_RETRY_MS = 1000;

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
  private readonly settled = new SettledHandlersMemory();
  private readonly replies = new AckBatcher();
  /** Messages being handled, with when their handling started (to keep them alive with working()). */
  private readonly inFlight = new Map<JsMsg, number>();
  /** Messages asked for by open pulls and not yet received (they have a handling slot reserved). */
  private requested = 0;
  private openPulls = 0;
  private pullPaused = false;
  private pullFailures = 0;
  private inFlightDrained: (() => void) | undefined;
  private connection: Promise<Connected> | undefined;
  /** Publishes (events and dead letters) and stream set-up. */
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
  private consumer: Consumer | undefined;
  private workingTimer: NodeJS.Timeout | undefined;
  private state: NatsConnectionState = 'idle';
  private lastError: string | undefined;
  private closing = false;
  private closePromise: Promise<void> | undefined;

  constructor(options: NatsJetStreamTransportOptions) {
    this.options = resolveNatsOptions(options);
    const signer = this.options.signingKey === undefined ? undefined : new MessageSigner(this.options.signingKey);
    this.codec = new EnvelopeCodec(this.options.subjectPrefix, this.options.maxPayloadBytes, signer);
    this.publisher = new ReliablePublisher(
      () => this.connect().then((c) => c.nc),
      this.options.maxPendingPublishes,
      () => this.host?.logger,
    );
  }

  // ---------------------------------------------------------------- publishing

  /** Called inside `publish`: serializes once, and refuses what cannot travel with InvalidEventError. */
  prepare(envelope: EventEnvelope): EncodedEvent {
    const serverMax = this.nc?.info?.max_payload;
    return this.codec.encode(envelope, serverMax === undefined ? Infinity : serverMax - HEADER_ALLOWANCE);
  }

  /** Resolves once JetStream acknowledged the message (retrying meanwhile). */
  send(_envelope: EventEnvelope, prepared: unknown): Promise<void> {
    return this.publisher.publish(prepared as EncodedEvent);
  }

  // ---------------------------------------------------------------- consuming

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    const { jsm } = await this.connect();
    await this.ensureConsumer(jsm);
    if (this.closing) return;
    this.consumerNc = await this.openNatsConnection('consume');
    if (this.closing) {
      await this.consumerNc.close();
      return;
    }
    this.consumer = await jetstream(this.consumerNc).consumers.get(this.options.stream, this.options.group);
    // close() may have run while the consumer was being looked up: start nothing it would not stop.
    if (this.closing) return;
    const ackWaitMs = this.options.ackWaitMs;
    // Handling may take longer than the ack wait: tell the server we are still on it.
    this.workingTimer = setInterval(() => this.keepAlive(ackWaitMs / 3), Math.max(250, ackWaitMs / 3));
    this.workingTimer.unref();
    this.pump();
  }

  /**
   * Asks for as many messages as there are free handling slots, never more: nothing waits in a local
   * buffer (where its ack wait would run out), and closing has nothing pulled-but-unstarted to give back
   * beyond what is on the wire. A new pull starts once half the slots are free, so pulls overlap handling.
   */
  private pump(): void {
    if (this.closing || this.consumer === undefined || this.pullPaused) return;
    const { concurrency } = this.options;
    const refillAt = Math.max(1, Math.floor(concurrency / 2));
    for (;;) {
      const free = concurrency - this.inFlight.size - this.requested;
      if (free <= 0 || (this.openPulls > 0 && free < refillAt)) return;
      void this.pull(this.consumer, free);
    }
  }

  private async pull(consumer: Consumer, count: number): Promise<void> {
    this.requested += count;
    this.openPulls++;
    let received = 0;
    let failed = false;
    try {
      const messages = await consumer.fetch({ max_messages: count, expires: this.options.pullExpiresMs });
      for await (const msg of messages) {
        received++;
        this.requested--;
        if (this.closing) {
          // Arrived while closing (it was on the wire): give it back now rather than after the ack wait.
          // Directly, not batched: the connection may be draining by the next turn.
          release(msg);
          continue;
        }
        this.handle(msg);
      }
    } catch (error) {
      failed = true;
      // Once, then every 30th: while the server is away this fails every RETRY_PULL_MS.
      if (!this.closing && this.pullFailures++ % 30 === 0) {
        this.logger.warn(
          `Pulling from NATS consumer "${this.options.group}" on stream "${this.options.stream}" failed (${this.pullFailures}x): ${String(error)}; ` +
            'retrying. If the consumer or stream was deleted, restart the service to recreate it.',
        );
      }
    } finally {
      this.requested -= count - received;
      this.openPulls--;
    }
    if (!failed) this.pullFailures = 0;
    if (failed && !this.closing) {
      // Disconnected or the consumer is gone: do not spin; try again shortly.
      this.pullPaused = true;
      await delay(RETRY_PULL_MS);
      this.pullPaused = false;
    }
    this.pump();
  }

  /** Handles one message; it holds its slot until acknowledged, given back, or left to the ack wait. */
  private handle(msg: JsMsg): void {
    this.inFlight.set(msg, Date.now());
    let work: Promise<void>;
    try {
      work = this.process(msg);
    } catch (error) {
      work = Promise.reject(error);
    }
    work.then(
      () => this.finished(msg),
      (error: unknown) => {
        // Left unacknowledged: the server redelivers it after the ack wait.
        this.logger.error(`Could not finish handling NATS message ${msg.seq} on ${msg.subject}: ${String(error)}`);
        this.finished(msg);
      },
    );
  }

  private finished(msg: JsMsg): void {
    this.inFlight.delete(msg);
    if (this.inFlight.size === 0) this.inFlightDrained?.();
    this.pump();
  }

  /** Decodes, delivers to the local handlers, then acknowledges, redelivers later, or dead-letters. */
  private process(msg: JsMsg): Promise<void> {
    const host = this.host!;
    const { maxDeliveries } = this.options;
    const deliveries = msg.info.deliveryCount;
    let envelope: EventEnvelope;
    try {
      envelope = host.restoreEnvelope(this.codec.decode(msg));
    } catch (thrown) {
      // Whatever keeps a message from becoming an envelope (e.g. an event class that cannot take its
      // payload) fails the same way on every delivery: dead-letter it now, or it would come back after
      // every ack wait, forever (this runs before the max-deliveries check).
      const error = thrown instanceof PoisonMessageError ? thrown : new PoisonMessageError('malformed', `the event could not be restored here (${String(thrown)})`);
      this.logger.warn(`Dead-lettering NATS message ${msg.seq} on ${msg.subject} (${error.reason}): ${error.message}`);
      return this.deadLetterAndAck(msg, [{ reason: error.reason, error }]);
    }
    if (deliveries > maxDeliveries) {
      // Delivered that often without an acknowledgement: the instances handling it died or hung.
      return this.deadLetterAndAck(msg, [
        {
          reason: 'max-deliveries',
          error: `not acknowledged after ${maxDeliveries} deliveries: the instances handling it stopped or could not acknowledge it`,
        },
      ]);
    }
    const skipHandlers = this.settled.get(msg.seq, envelope.id);
    // Before the last delivery a failure is not final: the bus reports it as such, and this redelivers.
    const lastDelivery = deliveries >= maxDeliveries;
    return host
      .deliver(envelope, skipHandlers === undefined ? { lastDelivery } : { skipHandlers, lastDelivery })
      .then((report) => this.afterDelivery(msg, envelope, report, deliveries));
  }

  private afterDelivery(msg: JsMsg, envelope: EventEnvelope, report: DeliveryReport, deliveries: number): Promise<void> | undefined {
    if (report.failed.length === 0) {
      this.settled.forget(msg.seq);
      this.replies.ack(msg);
      return undefined;
    }
    if (deliveries >= this.options.maxDeliveries) {
      return this.deadLetterAndAck(
        msg,
        report.failed.map((f) => ({ reason: 'handler-failed' as const, handler: f.handler, error: f.error })),
      );
    }
    // Redelivered later; the handlers that are done with it are skipped then (when it comes back here).
    this.settled.remember(msg.seq, envelope.id, this.host!.settledHandlers(envelope, report));
    this.replies.nak(msg, redeliveryDelay(this.options.backoff, deliveries));
    return undefined;
  }

  private async deadLetterAndAck(msg: JsMsg, letters: DeadLetter[]): Promise<void> {
    await this.deadLetter(msg, letters);
    this.settled.forget(msg.seq);
    this.replies.ack(msg);
  }

  /** Publishes the dead letters (retrying while the transport is open); the caller acknowledges afterwards. */
  private async deadLetter(msg: JsMsg, letters: DeadLetter[]): Promise<void> {
    const subject = `${this.options.deadLetterSubjectPrefix}.${this.options.group}`;
    for (const letter of letters) {
      let outgoing = deadLetterMessage(subject, this.options.group, msg, letter);
      for (;;) {
        try {
          await this.publisher.publish(outgoing);
          break;
        } catch (error) {
          if (isOverMaxPayload(error) && outgoing.body.length !== 0) {
            // The original body plus the dead-letter headers exceed the server's max_payload: no retry can
            // change that, so send the letter without the body (the event stream still has it).
            this.logger.warn(
              `NATS message ${msg.seq} (${msg.data.length} bytes) is too large to dead-letter with its body; ` +
                `dead-lettered without it (read it from stream "${this.options.stream}" at sequence ${msg.seq}).`,
            );
            outgoing = deadLetterMessage(subject, this.options.group, msg, letter, true);
            continue;
          }
          // The publisher already retried transient failures; a refusal is retried more slowly, unless closing.
          if (this.closing) throw error;
          this.logger.error(`Could not dead-letter NATS message ${msg.seq} to ${subject}: ${String(error)}`);
          await delay(DEAD_LETTER_RETRY_MS);
        }
      }
    }
  }

  private keepAlive(afterMs: number): void {
    if (this.inFlight.size === 0) return;
    const threshold = Date.now() - afterMs;
    for (const [msg, startedAt] of this.inFlight) if (startedAt <= threshold) msg.working();
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
      await this.ensureStream(jsm, this.options.stream, this.options.subjectPrefix);
      await this.ensureStream(jsm, this.options.deadLetterStream, this.options.deadLetterSubjectPrefix);
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

  private async openNatsConnection(role: 'publish' | 'consume'): Promise<NatsConnection> {
    const { servers, group, connectionOptions } = this.options;
    try {
      const nc = await connect({
        name: `nestjs-event-bus:${group}:${role}`,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
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

  private async ensureStream(jsm: JetStreamManager, name: string, subjectPrefix: string): Promise<void> {
    const subject = `${subjectPrefix}.>`;
    for (let tries = 0; ; tries++) {
      try {
        const info = await jsm.streams.info(name);
        if (!info.config.subjects?.includes(subject)) {
          throw new NatsTransportConfigError(
            `JetStream stream "${name}" exists but does not capture "${subject}" (its subjects: ${JSON.stringify(info.config.subjects ?? [])}). ` +
              `Add "${subject}" to the stream, or choose another stream name or subject prefix.`,
          );
        }
        return;
      } catch (error) {
        if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
      }
      try {
        await jsm.streams.add({
          retention: RetentionPolicy.Limits,
          storage: StorageType.File,
          duplicate_window: nanos(2 * 60 * 1000),
          ...(name === this.options.stream ? this.options.streamConfig : {}),
          name,
          subjects: [subject],
        });
        return;
      } catch (error) {
        // Another instance created it meanwhile: read it again.
        if (tries > 0 || !(error instanceof JetStreamApiError)) throw error;
      }
    }
  }

  private async ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { stream, group, subjectPrefix, ackWaitMs, maxAckPending, deliverPolicy } = this.options;
    const filter = `${subjectPrefix}.>`;
    const wanted = { ack_wait: nanos(ackWaitMs), max_ack_pending: maxAckPending };
    try {
      const info = await jsm.consumers.info(stream, group);
      if (info.config.filter_subject !== undefined && info.config.filter_subject !== filter) {
        throw new NatsTransportConfigError(
          `The consumer "${group}" on stream "${stream}" filters "${info.config.filter_subject}", not "${filter}". ` +
            'Delete it (nats consumer rm) or use another group name.',
        );
      }
      if (info.config.ack_wait !== wanted.ack_wait || info.config.max_ack_pending !== wanted.max_ack_pending) {
        await jsm.consumers.update(stream, group, wanted);
      }
      return;
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    }
    await jsm.consumers.add(stream, {
      durable_name: group,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
      filter_subject: filter,
      // Unlimited on the server: this transport dead-letters after maxDeliveries itself, so a message
      // whose handler keeps crashing the process still ends in the dead letters instead of limbo.
      max_deliver: -1,
      ...wanted,
    });
  }

  // ---------------------------------------------------------------- shutdown and status

  /**
   * Stops pulling, lets in-flight messages finish (releasing them to the server after closeTimeoutMs),
   * waits for unacknowledged publishes, then drains the connection.
   */
  close(): Promise<void> {
    return (this.closePromise ??= this.runClose());
  }

  private async runClose(): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + this.options.closeTimeoutMs;
    this.state = this.nc === undefined ? 'closed' : 'closing';
    // No new pulls from here; messages of open pulls that arrive meanwhile are released by the pull loop.
    if (this.inFlight.size !== 0) {
      const drained = new Promise<void>((resolve) => (this.inFlightDrained = resolve));
      if (!(await settlesWithin(drained, deadline - Date.now()))) {
        this.logger.warn(
          `${this.inFlight.size} NATS messages were still being handled after ${this.options.closeTimeoutMs}ms; ` +
            'released to the server for redelivery.',
        );
        for (const msg of this.inFlight.keys()) this.replies.nak(msg);
      }
    }
    clearInterval(this.workingTimer);
    this.replies.flush();
    // Draining unsubscribes the open pulls and waits for what was already on the wire (released by the
    // pull loop), then flushes the acknowledgements.
    await drainConnection(this.consumerNc, deadline);
    if (!(await settlesWithin(this.publisher.whenIdle(), deadline - Date.now()))) {
      const lost = this.publisher.stop('the NATS transport closed before the server acknowledged the message');
      this.logger.error(
        `${lost} events were not acknowledged by NATS within closeTimeoutMs (${this.options.closeTimeoutMs}ms) and may be lost.`,
      );
    } else {
      this.publisher.stop('the NATS transport is closed');
    }
    await drainConnection(this.nc, deadline);
    this.state = 'closed';
  }

  /** This group's dead letters, for `DeadLetters` (list, inspect, redrive, purge). */
  deadLetterStore(): NatsDeadLetterStore {
    return new NatsDeadLetterStore({ connection: () => this.connect(), options: this.options, codec: this.codec, host: () => this.host });
  }

  /** Servers, group and subjects, for the AsyncAPI document. */
  describe(): TransportDescription {
    return describeNatsTransport(this.options, this.codec);
  }

  /** Connection and consumer state, for health checks and dashboards. */
  status(): NatsTransportStatus {
    const nc = this.nc;
    let state = this.state;
    if (state === 'connected' && this.disconnected.size !== 0) state = 'reconnecting';
    if (state === 'connected' && nc !== undefined && nc.isClosed()) state = 'closed';
    return {
      state,
      ...(state === 'connected' && nc !== undefined ? { server: nc.getServer() } : {}),
      stream: this.options.stream,
      group: this.options.group,
      consuming: this.consumer !== undefined && !this.closing && !this.pullPaused,
      inFlight: this.inFlight.size,
      pendingPublishes: this.publisher.pending,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
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

/** Gives a message back for immediate redelivery; after the connection stopped publishing, the ack wait does it. */
function release(msg: JsMsg): void {
  try {
    msg.nak();
  } catch {
    // Redelivered after the ack wait instead.
  }
}

/** The client refused to send a message over the server's max_payload (a permanent failure). */
function isOverMaxPayload(error: unknown): boolean {
  return error instanceof InvalidArgumentError && error.message.includes('max_payload');
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** drain() flushes what is buffered; it cannot finish while disconnected, so close() after the deadline. */
async function drainConnection(nc: NatsConnection | undefined, deadline: number): Promise<void> {
  if (nc === undefined || nc.isClosed()) return;
  if (!(await settlesWithin(nc.drain(), Math.max(1000, deadline - Date.now())))) await nc.close().catch(() => undefined);
}

/** True when `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
