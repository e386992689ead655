import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { LoggerService } from '@nestjs/common';
import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { TransportHost } from '../transport/event-transport.interface.js';
import { AckBatcher } from './ack-batcher.js';
import { describeError, type DeadLetter } from './dead-letter-message.js';
import type { DeadLetterer } from './dead-letterer.js';
import { emptyRecord, type DeliveryLedger, type DeliveryRecord } from './delivery-ledger.js';
import { HEADER, type EnvelopeCodec } from './envelope-codec.js';
import { PoisonMessageError } from './errors.js';
import { redeliveryDelay, type ResolvedNatsOptions } from './nats-jetstream-transport.options.js';

const RETRY_PULL_MS = 1000;
/** A message whose dead letter could not be written comes back after this long. */
const DEAD_LETTER_RETRY_MS = 5000;
/**
 * A released message comes back after this long: its release is recorded meanwhile (it may arrive on
 * a connection that is draining, where nothing can wait for the record before giving it back).
 */
const RELEASE_DELAY_MS = 1000;

interface InFlight {
  startedAt: number;
  /** The event id (once decoded) and what the ledger knew when this delivery started. */
  id?: string;
  record?: DeliveryRecord;
}

/**
 * The group's consumer in this process: pulls as many messages as there are free handling slots,
 * delivers each to the local handlers, then acknowledges, redelivers later, or dead-letters, counting
 * failures (not releases or crashes) against maxDeliveries through the delivery ledger.
 */
export class NatsGroupConsumer {
  private readonly replies = new AckBatcher();
  /** Messages being handled. */
  private readonly inFlight = new Map<JsMsg, InFlight>();
  /** Messages asked for by open pulls and not yet received (they have a handling slot reserved). */
  private requested = 0;
  private openPulls = 0;
  private paused = false;
  private pullFailures = 0;
  private closing = false;
  private drained: (() => void) | undefined;
  /** Releases being recorded at close (the connection must not drain before they are sent). */
  private readonly releasing = new Set<Promise<void>>();
  private keepAliveTimer: NodeJS.Timeout | undefined;
  /** The last pull failure, until a pull succeeds again. */
  error: string | undefined;

  constructor(
    private consumer: Consumer,
    private readonly options: Readonly<ResolvedNatsOptions>,
    private readonly codec: EnvelopeCodec,
    private readonly ledger: DeliveryLedger,
    private readonly deadLetterer: DeadLetterer,
    private readonly host: TransportHost,
    /** Recreates the stream and the consumer if they were deleted; resolves with the consumer to pull from. */
    private readonly recover: () => Promise<Consumer>,
  ) {}

  get handling(): number {
    return this.inFlight.size;
  }

  /** Messages of the group not yet delivered (the consumer's num_pending), for telemetry; undefined if unreachable. */
  async lag(): Promise<number | undefined> {
    if (this.closing) return undefined;
    try {
      return (await this.consumer.info()).num_pending;
    } catch {
      return undefined;
    }
  }

  get pulling(): boolean {
    return !this.closing && !this.paused;
  }

  start(): void {
    const ackWaitMs = this.options.ackWaitMs;
    // Handling may take longer than the ack wait: tell the server we are still on it.
    this.keepAliveTimer = setInterval(() => this.keepAlive(ackWaitMs / 3), Math.max(250, ackWaitMs / 3));
    this.keepAliveTimer.unref();
    this.pump();
  }

  /**
   * Stops pulling; lets in-flight messages finish for up to `timeoutMs`, then releases the rest (each
   * release recorded in the ledger first, so it does not count as a failure or a crash).
   */
  async stop(timeoutMs: number): Promise<void> {
    this.closing = true;
    if (this.inFlight.size !== 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      if (!(await settlesWithin(drained, timeoutMs))) {
        this.logger.warn(
          `${this.inFlight.size} NATS messages were still being handled after ${timeoutMs}ms (handlingCloseTimeoutMs); ` +
            'released to the server for redelivery.',
        );
        for (const [msg, state] of this.inFlight) this.release(msg, state);
      }
    }
    clearInterval(this.keepAliveTimer);
    this.replies.flush();
  }

  /** Releases still being recorded, for the close to wait on before the publishing connection drains. */
  whenReleased(): Promise<unknown> {
    return Promise.all([...this.releasing]);
  }

  /**
   * Asks for as many messages as there are free handling slots, never more: nothing waits in a local
   * buffer (where its ack wait would run out), and closing has nothing pulled-but-unstarted to give back
   * beyond what is on the wire. A new pull starts once half the slots are free, so pulls overlap handling.
   */
  private pump(): void {
    if (this.closing || this.paused) return;
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
    let failure: unknown;
    try {
      const messages = await consumer.fetch({ max_messages: count, expires: this.options.pullExpiresMs });
      for await (const msg of messages) {
        received++;
        this.requested--;
        if (this.closing) {
          // Arrived while closing (it was on the wire): give it back now rather than after the ack wait.
          this.release(msg, { startedAt: 0 });
          continue;
        }
        this.handle(msg);
      }
    } catch (error) {
      failure = error;
    } finally {
      this.requested -= count - received;
      this.openPulls--;
    }
    if (failure === undefined) {
      this.pullFailures = 0;
      this.error = undefined;
    } else if (!this.closing) {
      await this.pullFailed(failure);
    }
    this.pump();
  }

  private async pullFailed(error: unknown): Promise<void> {
    this.error = `pulling from consumer "${this.options.group}" failed: ${String(error)}`;
    // Once, then every 30th: while the server is away this fails every RETRY_PULL_MS.
    if (this.pullFailures++ % 30 === 0) {
      this.logger.warn(
        `Pulling from NATS consumer "${this.options.group}" on stream "${this.options.stream}" failed (${this.pullFailures}x): ${String(error)}; retrying.`,
      );
    }
    // Disconnected, or the consumer (or stream) is gone: do not spin; recreate what is missing.
    this.paused = true;
    await delay(RETRY_PULL_MS);
    try {
      if (!this.closing) this.consumer = await this.recover();
    } catch (recoverError) {
      this.error = `${this.error}; recreating it failed: ${String(recoverError)}`;
    }
    this.paused = false;
  }

  /** Handles one message; it holds its slot until acknowledged, given back, or left to the ack wait. */
  private handle(msg: JsMsg): void {
    const state: InFlight = { startedAt: Date.now() };
    this.inFlight.set(msg, state);
    this.process(msg, state).then(
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
    if (this.inFlight.size === 0) this.drained?.();
    this.pump();
  }

  /** Decodes, delivers to the local handlers, then acknowledges, redelivers later, or dead-letters. */
  private async process(msg: JsMsg, state: InFlight): Promise<void> {
    const { maxDeliveries, maxLostDeliveries } = this.options;
    let envelope: EventEnvelope;
    try {
      envelope = this.host.restoreEnvelope(this.codec.decode({ subject: msg.subject, headers: msg.headers, data: msg.data, storedAtMs: storedAt(msg) }));
    } catch (thrown) {
      // Whatever keeps a message from becoming an envelope (e.g. an event class that cannot take its
      // payload) fails the same way on every delivery: dead-letter it now, or it would come back after
      // every ack wait, forever.
      const error =
        thrown instanceof PoisonMessageError ? thrown : new PoisonMessageError('malformed', `the event could not be restored here (${String(thrown)})`);
      this.logger.warn(`Dead-lettering NATS message ${msg.seq} on ${msg.subject} (${error.reason}): ${error.message}`);
      return this.deadLetterAndAck(msg, undefined, [{ reason: error.reason, error }]);
    }
    state.id = envelope.id;
    const deliveries = msg.info.deliveryCount;
    // Only a redelivery can have a record: the first delivery of every message costs nothing here.
    const record = deliveries > 1 ? await this.readRecord(envelope.id, msg.seq) : undefined;
    state.record = record;
    const failures = record?.failures ?? 0;
    const lost = deliveries - 1 - failures - (record?.releases ?? 0);
    if (record?.letters !== undefined && record.letters.length !== 0) {
      // Its handlers already failed for good; only the dead letters are left to write.
      return this.deadLetterAndAck(msg, record, record.letters);
    }
    if (lost >= maxLostDeliveries) {
      return this.deadLetterAndAck(msg, record, [
        {
          reason: 'max-deliveries',
          error:
            `${lost} of its ${deliveries} deliveries ended without an acknowledgement, a failure or a release ` +
            `(maxLostDeliveries ${maxLostDeliveries}): the instances handling it crashed or hung`,
        },
      ]);
    }
    // Before the last allowed failure a failure is not final: the bus reports it as such, and this redelivers.
    const lastDelivery = failures + 1 >= maxDeliveries;
    const report = await this.host.deliver(
      envelope,
      record === undefined || record.settled.length === 0
        ? { lastDelivery, deliveryCount: deliveries }
        : { skipHandlers: new Set(record.settled), lastDelivery, deliveryCount: deliveries },
    );
    return this.afterDelivery(msg, envelope, report, record);
  }

  private async afterDelivery(msg: JsMsg, envelope: EventEnvelope, report: DeliveryReport, record: DeliveryRecord | undefined): Promise<void> {
    if (report.failed.length === 0) {
      this.replies.ack(msg);
      if (record !== undefined) this.forget(envelope.id);
      return;
    }
    const base = record ?? emptyRecord(envelope.id, msg.seq);
    const failures = base.failures + 1;
    const settled = [...new Set([...base.settled, ...this.host.settledHandlers(envelope, report)])];
    if (failures >= this.options.maxDeliveries) {
      const letters = report.failed.map((f) => ({ reason: 'handler-failed' as const, handler: f.handler, error: describeError(f.error) }));
      return this.deadLetterAndAck(msg, { ...base, failures, settled }, letters);
    }
    // Redelivered later, to any instance of the group; the handlers done with it are skipped then.
    await this.writeRecord({ ...base, failures, settled });
    this.replies.nak(msg, redeliveryDelay(this.options.backoff, failures));
  }

  /**
   * Dead-letters, then acknowledges. When the dead letters cannot be written (the dead-letter stream is
   * gone or refuses them), the message is given back for a later try instead, with its pending letters
   * recorded (counted as a release: it is not the message's fault).
   */
  private async deadLetterAndAck(msg: JsMsg, record: DeliveryRecord | undefined, letters: readonly DeadLetter[]): Promise<void> {
    if (await this.deadLetterer.send(msg, letters)) {
      this.replies.ack(msg);
      if (record !== undefined) this.forget(record.id);
      return;
    }
    if (record !== undefined) {
      const pending = letters.filter((l): l is DeadLetter & { reason: 'handler-failed'; handler: string } => l.reason === 'handler-failed');
      await this.writeRecord({
        ...record,
        releases: record.releases + 1,
        ...(pending.length === 0 ? {} : { letters: pending.map((l) => ({ reason: l.reason, handler: l.handler, error: describeError(l.error) })) }),
      });
    }
    this.replies.nak(msg, DEAD_LETTER_RETRY_MS);
  }

  /**
   * Gives a message back unfinished (closing), and records the release before it comes back, so it
   * costs no delivery budget.
   */
  private release(msg: JsMsg, state: InFlight): void {
    try {
      // Directly, not batched: the connection may be draining by the next turn.
      msg.nak(RELEASE_DELAY_MS);
    } catch {
      // Redelivered after the ack wait instead.
    }
    const id = state.id ?? msg.headers?.get(HEADER.id) ?? '';
    if (id === '') return;
    const recorded = (async () => {
      try {
        const record = state.record ?? (msg.info.deliveryCount > 1 ? await this.ledger.read(id, msg.seq) : undefined) ?? emptyRecord(id, msg.seq);
        await this.ledger.write({ ...record, releases: record.releases + 1 });
      } catch (error) {
        this.logger.warn(`Could not record the release of NATS message ${msg.seq} (${String(error)}); its redelivery counts as lost.`);
      }
    })();
    this.releasing.add(recorded);
    void recorded.finally(() => this.releasing.delete(recorded));
  }

  private async readRecord(id: string, seq: number): Promise<DeliveryRecord | undefined> {
    try {
      return await this.ledger.read(id, seq);
    } catch (error) {
      this.logger.warn(`Could not read the delivery record of event ${id} (${String(error)}); its earlier deliveries count as lost.`);
      return undefined;
    }
  }

  private async writeRecord(record: DeliveryRecord): Promise<void> {
    try {
      await this.ledger.write(record);
    } catch (error) {
      this.logger.warn(`Could not write the delivery record of event ${record.id} (${String(error)}); this delivery will count as lost.`);
    }
  }

  private forget(id: string): void {
    this.ledger.forget(id).catch((error: unknown) => {
      this.logger.warn(`Could not delete the delivery record of event ${id} (${String(error)}); it expires on its own.`);
    });
  }

  private keepAlive(afterMs: number): void {
    if (this.inFlight.size === 0) return;
    const threshold = Date.now() - afterMs;
    for (const [msg, state] of this.inFlight) if (state.startedAt <= threshold) msg.working();
  }

  private get logger(): LoggerService {
    return this.host.logger;
  }
}

/** When the server stored the message, in ms. */
function storedAt(msg: JsMsg): number {
  return Math.floor(msg.info.timestampNanos / 1e6);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `promise` settled within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))));
  try {
    return await Promise.race([promise.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
