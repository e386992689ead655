import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { DeadLetter } from '../transport/dead-letter-record.js';
import type { TransportHost } from '../transport/event-transport.interface.js';
import type { FieldEnvelopeCodec } from '../transport/field-envelope-codec.js';
import type { PoisonMessageError } from '../transport/poison-message.error.js';
import { SettledHandlersMemory } from '../transport/settled-handlers.memory.js';
import { DeliveryLedger, emptyRecord, type DeliveryRecord } from './delivery-ledger.js';
import { redeliveryDelay } from '../transport/transport-options.js';
import { restoreReceived } from '../transport/wire-envelope.js';
import { moveToDeadLetters } from './dead-letter-entry.js';
import { startMaintenance } from './stream-maintenance.js';
import { AckBatcher } from './entry-batchers.js';
import { settlesWithin, type RedisConnections } from './redis-connections.js';
import type { ResolvedRedisOptions } from './redis-streams-transport.options.js';

type Entry = [id: string, fields: string[] | null];
const RETRY_MS = 1000;
/** How long past BLOCK a read may go unanswered before its connection is considered dead and reopened. */
const READ_GRACE_MS = 10_000;

/** An entry being handled here: since when, and (once decoded) its event and what the ledger knew. */
interface InFlight {
  startedAt: number;
  eventId?: string;
  record?: DeliveryRecord;
}

/** Whatever a consumer needs from the transport that owns it. */
export interface ConsumerContext {
  host: TransportHost;
  connections: RedisConnections;
  codec: FieldEnvelopeCodec;
  options: ResolvedRedisOptions;
  consumer: string;
}

/**
 * One group's consumer in this process: reads new entries (XREADGROUP >) on the blocking connection,
 * first and after every read failure its own pending entries (ID 0), takes over the entries of dead
 * consumers (XAUTOCLAIM), keeps its own entries alive while they are handled or wait for a redelivery,
 * and acknowledges an entry only once every local handler succeeded or was dead-lettered.
 */
export class StreamConsumer {
  /** Entries being handled. */
  private readonly inFlight = new Map<string, InFlight>();
  /** Entries waiting out their redelivery backoff, with when the next delivery is due. */
  private readonly waiting = new Map<string, { due: number; timer: NodeJS.Timeout }>();
  /** Handlers done with an entry, in this process (kept too when the ledger could not be written). */
  private readonly settled = new SettledHandlersMemory<string>();
  /** Failure and release counts and settled handlers per entry, shared by the group's instances. */
  private readonly ledger: DeliveryLedger;
  /** Entries that failed while closing: released at the end of close(), with their backoff. */
  private readonly released = new Map<string, number>();
  private readonly acks: AckBatcher;
  private slotFreed: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopMaintenance: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readerId: number | undefined;
  private reclaiming = false;
  private failures = 0;
  closing = false;

  constructor(private readonly ctx: ConsumerContext) {
    const { streamKey, group } = ctx.options;
    this.ledger = new DeliveryLedger(() => ctx.connections.commands, ctx.options.stream, group, ctx.options.deliveryStateTtlMs);
    this.acks = new AckBatcher(() => ctx.connections.commands, streamKey, group, (error) =>
      this.logger.warn(`XACK on ${streamKey} failed (${String(error)}); the entries stay pending and will be handled again.`),
    );
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  get reading(): boolean {
    return this.loop !== undefined && !this.closing;
  }

  async start(): Promise<void> {
    const reader = await this.ctx.connections.blockingReader();
    this.readerId = Number(await reader.client('ID'));
    const { keepAliveMs, reclaimIntervalMs } = this.ctx.options;
    this.every(keepAliveMs, () => this.keepAlive());
    this.every(reclaimIntervalMs, () => this.reclaim());
    this.stopMaintenance = startMaintenance(this.ctx.connections.commands, this.ctx.options, () => this.logger);
    this.loop = this.readLoop(reader);
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => void task().catch((error: unknown) => this.logger.warn(`Redis Streams transport: ${String(error)}`)), ms);
    timer.unref();
    this.timers.push(timer);
  }

  // ---------------------------------------------------------------- reading

  private async readLoop(reader: Redis): Promise<void> {
    const { streamKey, group, batchSize, blockMs, concurrency } = this.ctx.options;
    let ownPending = true;
    // Read again once this many slots are free (not for every single finished entry: one read per entry
    // would cost a round trip each). Reads overlap handling while half the slots are still busy.
    const refillAt = Math.max(1, Math.min(batchSize, Math.floor(concurrency / 2)));
    while (!this.closing) {
      const free = concurrency - this.inFlight.size;
      if (free < refillAt && this.inFlight.size !== 0) {
        await new Promise<void>((resolve) => (this.slotFreed = resolve));
        continue;
      }
      try {
        if (ownPending) {
          // Entries delivered to this consumer name that it is not handling: a previous run's, or replies lost in a disconnect.
          await this.readOwnPending(reader, free);
          ownPending = false;
          continue;
        }
        const reply = (await this.watchdog(
          reader,
          reader.xreadgroup('GROUP', group, this.ctx.consumer, 'COUNT', Math.min(batchSize, free), 'BLOCK', blockMs, 'STREAMS', streamKey, '>'),
        )) as [string, Entry[]][] | null;
        this.failures = 0;
        if (reply !== null) for (const [id, fields] of reply[0][1]) this.handle(id, fields, 1);
      } catch (error) {
        if (this.closing) break;
        ownPending = true;
        if (String(error).includes('NOGROUP')) {
          this.logger.warn(`Consumer group "${group}" on ${streamKey} is gone (Redis restarted without its data, or it was deleted): recreating it.`);
          await this.ensureGroup('0').catch(() => undefined);
          continue;
        }
        if (this.failures++ % 30 === 0) this.logger.warn(`Reading ${streamKey} for group "${group}" failed (${this.failures}x): ${String(error)}; retrying.`);
        await delay(RETRY_MS);
      }
    }
  }

  /**
   * A blocked read that outlives BLOCK by far sits on a dead connection (a network partition without a
   * reset): reopen it. The read then fails, and its entries, if Redis delivered any, are read again from
   * this consumer's pending list.
   */
  private async watchdog<T>(reader: Redis, read: Promise<T>): Promise<T> {
    const timer = setTimeout(() => {
      this.logger.warn(`A read of ${this.ctx.options.streamKey} got no answer within ${this.ctx.options.blockMs + READ_GRACE_MS}ms; reconnecting.`);
      reader.disconnect(true);
    }, this.ctx.options.blockMs + READ_GRACE_MS);
    try {
      return await read;
    } finally {
      clearTimeout(timer);
    }
  }

  private async readOwnPending(reader: Redis, free: number): Promise<void> {
    const { streamKey, group } = this.ctx.options;
    let after = '0';
    while (!this.closing && free > 0) {
      const reply = (await reader.xreadgroup('GROUP', group, this.ctx.consumer, 'COUNT', Math.min(100, free), 'STREAMS', streamKey, after)) as [string, Entry[]][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      const fresh = entries.filter(([id]) => !this.inFlight.has(id) && !this.waiting.has(id));
      const counts = await this.deliveryCounts(fresh.map(([id]) => id));
      for (const [id, fields] of fresh) {
        this.handle(id, fields, counts.get(id) ?? 1);
        free--;
      }
      after = entries[entries.length - 1][0];
    }
  }

  /** Creates the group (and the stream) unless it exists. */
  async ensureGroup(startId: string): Promise<void> {
    const { streamKey, group } = this.ctx.options;
    try {
      await this.ctx.connections.commands.xgroup('CREATE', streamKey, group, startId, 'MKSTREAM');
    } catch (error) {
      if (!String(error).includes('BUSYGROUP')) throw error;
    }
  }

  /** Takes over entries other consumers of the group left unacknowledged longer than reclaimIdleMs. */
  private async reclaim(): Promise<void> {
    if (this.closing || this.reclaiming) return;
    this.reclaiming = true;
    const { streamKey, group, batchSize, concurrency, reclaimIdleMs } = this.ctx.options;
    try {
      let cursor = '0-0';
      do {
        const free = concurrency - this.inFlight.size;
        if (free <= 0 || this.closing) return;
        const [next, entries] = (await this.ctx.connections.commands.xautoclaim(streamKey, group, this.ctx.consumer, reclaimIdleMs, cursor, 'COUNT', Math.min(batchSize, free))) as [string, Entry[]];
        cursor = next;
        const fresh = entries.filter(([id]) => !this.inFlight.has(id) && !this.waiting.has(id));
        if (fresh.length === 0) continue;
        const counts = await this.deliveryCounts(fresh.map(([id]) => id));
        for (const [id, fields] of fresh) this.handle(id, fields, counts.get(id) ?? 1);
      } while (cursor !== '0-0');
    } finally {
      this.reclaiming = false;
    }
  }

  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (ids.length === 0) return counts;
    const { streamKey, group } = this.ctx.options;
    const rows = (await this.ctx.connections.commands.xpending(streamKey, group, ids[0], ids[ids.length - 1], ids.length * 2, this.ctx.consumer)) as [string, string, number, number][];
    for (const [id, , , deliveries] of rows) counts.set(id, Number(deliveries));
    return counts;
  }

  /** Refreshes the idle time of the entries this instance holds, so no other instance takes them over. */
  private async keepAlive(): Promise<void> {
    const threshold = Date.now() - this.ctx.options.keepAliveMs;
    const ids = [...this.waiting.keys()];
    for (const [id, state] of this.inFlight) if (state.startedAt <= threshold) ids.push(id);
    if (ids.length !== 0) await this.touch(ids, 0);
  }

  private touch(ids: string[], idleMs: number): Promise<number> {
    const { streamKey, group } = this.ctx.options;
    return this.ctx.connections.commands.ebTouch(streamKey, group, this.ctx.consumer, idleMs, ...ids);
  }

  // ---------------------------------------------------------------- handling

  private handle(id: string, fields: string[] | null, deliveries: number): void {
    const state: InFlight = { startedAt: Date.now() };
    this.inFlight.set(id, state);
    this.process(id, fields, deliveries, state)
      .catch((error: unknown) => this.logger.error(`Could not finish handling Redis entry ${id}: ${String(error)}; it stays pending and will be handled again.`))
      .finally(() => {
        this.inFlight.delete(id);
        this.slotFreed?.();
        this.slotFreed = undefined;
        if (this.inFlight.size === 0) this.drained?.();
      });
  }

  private async process(id: string, fields: string[] | null, deliveries: number, state: InFlight): Promise<void> {
    const { host, codec, options } = this.ctx;
    if (fields === null) {
      // Trimmed or deleted while pending: nothing left to handle.
      this.acks.ack(id);
      return;
    }
    let envelope: EventEnvelope;
    try {
      envelope = restoreReceived(host, () => codec.decode(fields));
    } catch (thrown) {
      const error = thrown as PoisonMessageError;
      this.logger.warn(`Dead-lettering Redis entry ${id} of ${options.streamKey} (${error.reason}): ${error.message}`);
      return this.deadLetterAndAck(id, fields, deliveries, [{ reason: error.reason, error }]);
    }
    state.eventId = envelope.id;
    // Only a redelivery can have a record: the first delivery of every entry costs nothing here.
    const record = deliveries > 1 ? await this.readRecord(id, envelope.id) : undefined;
    state.record = record;
    const failures = record?.failures ?? 0;
    const lost = deliveries - 1 - failures - (record?.releases ?? 0);
    if (lost >= options.maxLostDeliveries) {
      return this.deadLetterAndAck(id, fields, deliveries, [
        {
          reason: 'max-deliveries',
          error:
            `${lost} of its ${deliveries} deliveries ended without an acknowledgement, a failure or a release ` +
            `(maxLostDeliveries ${options.maxLostDeliveries}): the instances handling it crashed or hung`,
        },
      ]);
    }
    const skipHandlers = unionOf(record?.settled, this.settled.get(id, envelope.id));
    // Before the last allowed failure a failure is not final: the bus reports it as such, and this redelivers.
    const lastDelivery = failures + 1 >= options.maxDeliveries;
    let report: DeliveryReport;
    try {
      // Resolves once the handlers settled and the events they published were stored (the bus holds the delivery for them).
      report = await host.deliver(
        envelope,
        skipHandlers === undefined ? { lastDelivery, deliveryCount: deliveries } : { skipHandlers, lastDelivery, deliveryCount: deliveries },
      );
    } catch (error) {
      // A follow-up was not stored, or the bus is shutting down: acknowledging could lose a follow-up. Handle it again later.
      // Not the entry's fault: counted as a release, so it costs no failure budget.
      this.logger.warn(`Redis entry ${id} is not acknowledged: ${String(error)}; it will be handled again.`);
      await this.writeRecord(id, { ...(record ?? emptyRecord(envelope.id)), releases: (record?.releases ?? 0) + 1 });
      this.redeliverLater(id, Math.max(1, failures));
      return;
    }
    return this.afterDelivery(id, fields, envelope, report, deliveries, record);
  }

  private async afterDelivery(
    id: string,
    fields: string[],
    envelope: EventEnvelope,
    report: DeliveryReport,
    deliveries: number,
    record: DeliveryRecord | undefined,
  ): Promise<void> {
    if (report.failed.length === 0) {
      this.settled.forget(id);
      this.acks.ack(id);
      if (record !== undefined) this.forget(id);
      return;
    }
    const base = record ?? emptyRecord(envelope.id);
    const failures = base.failures + 1;
    if (failures >= this.ctx.options.maxDeliveries) {
      return this.deadLetterAndAck(
        id,
        fields,
        deliveries,
        report.failed.map((f) => ({ reason: 'handler-failed' as const, handler: f.handler, error: f.error })),
      );
    }
    const settled = [...new Set([...base.settled, ...(this.settled.get(id, envelope.id) ?? []), ...this.ctx.host.settledHandlers(envelope, report)])];
    this.settled.remember(id, envelope.id, settled);
    // Redelivered later (here, or by another instance after a close or a crash); the handlers done with it are skipped then.
    await this.writeRecord(id, { ...base, failures, settled });
    this.redeliverLater(id, failures);
  }

  private async readRecord(id: string, eventId: string): Promise<DeliveryRecord | undefined> {
    try {
      return await this.ledger.read(id, eventId);
    } catch (error) {
      this.logger.warn(`Could not read the delivery state of Redis entry ${id} (${String(error)}); its earlier deliveries count as lost.`);
      return undefined;
    }
  }

  private async writeRecord(id: string, record: DeliveryRecord): Promise<void> {
    try {
      await this.ledger.write(id, record);
    } catch (error) {
      this.logger.warn(`Could not write the delivery state of Redis entry ${id} (${String(error)}); this delivery will count as lost.`);
    }
  }

  private forget(id: string): void {
    this.ledger.forget(id).catch((error: unknown) => {
      this.logger.warn(`Could not delete the delivery state of Redis entry ${id} (${String(error)}); it expires on its own.`);
    });
  }

  /** Keeps the entry pending (and alive) and delivers it again here after the backoff (by failures so far); never re-added to the stream. */
  private redeliverLater(id: string, failures: number): void {
    const delayMs = redeliveryDelay(this.ctx.options.backoff, failures);
    if (this.closing) {
      // Released at close with the backoff left, like the entries already waiting.
      this.released.set(id, delayMs);
      return;
    }
    const timer = setTimeout(() => void this.redeliver(id), delayMs);
    this.waiting.set(id, { due: Date.now() + delayMs, timer });
  }

  private async redeliver(id: string): Promise<void> {
    if (this.closing || !this.waiting.has(id)) return;
    const { streamKey, group } = this.ctx.options;
    let claimed: [string[] | null, number] | null;
    try {
      claimed = await this.ctx.connections.commands.ebRedeliver(streamKey, group, this.ctx.consumer, id);
    } catch (error) {
      this.logger.warn(`Could not take up Redis entry ${id} again (${String(error)}); retrying.`);
      this.waiting.set(id, { due: Date.now() + RETRY_MS, timer: setTimeout(() => void this.redeliver(id), RETRY_MS) });
      return;
    }
    this.waiting.delete(id);
    // Null: another instance took it over meanwhile, and handles it.
    if (claimed !== null) this.handle(id, claimed[0] === null || (claimed[0] as unknown) === false ? null : claimed[0], Number(claimed[1]));
  }

  /** Moves the entry to the dead-letter stream and acknowledges it, in one MULTI; retried until it succeeds or the transport closes. */
  private async deadLetterAndAck(id: string, fields: string[] | null, deliveries: number, letters: DeadLetter[]): Promise<void> {
    const { streamKey, deadLetterKey, group, maxPayloadBytes } = this.ctx.options;
    const context = { entryId: id, deliveries, group, consumer: this.ctx.consumer, maxCopyChars: maxPayloadBytes + 64 * 1024 };
    for (;;) {
      try {
        await moveToDeadLetters(this.ctx.connections.commands, streamKey, deadLetterKey, group, fields, letters, context);
        this.settled.forget(id);
        if (deliveries > 1) this.forget(id);
        return;
      } catch (error) {
        if (this.closing) throw error;
        this.logger.error(`Could not dead-letter Redis entry ${id} to ${deadLetterKey}: ${String(error)}; retrying.`);
        await delay(RETRY_MS);
      }
    }
  }

  // ---------------------------------------------------------------- closing

  /** Stops reading, waits for in-flight entries until the deadline, then releases what is left to the group. */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    this.stopMaintenance?.();
    this.slotFreed?.();
    const commands = this.ctx.connections.commands;
    // Ends the blocked XREADGROUP now instead of after blockMs (if CLIENT is not allowed, the block times out).
    // Bounded: a server that does not answer must not hold close() past its deadline.
    if (this.readerId !== undefined) await settlesWithin(commands.client('UNBLOCK', this.readerId), Math.max(0, deadline - Date.now()));
    await Promise.race([this.loop, delay(Math.max(0, deadline - Date.now()))]);
    if (this.inFlight.size !== 0) {
      const drained = new Promise<void>((resolve) => (this.drained = resolve));
      await Promise.race([drained, delay(Math.max(0, deadline - Date.now()))]);
    }
    await this.acks.flush();
    const { reclaimIdleMs } = this.ctx.options;
    const release: [string, number][] = [...this.inFlight.keys()].map((id) => [id, reclaimIdleMs]);
    if (release.length !== 0) {
      this.logger.warn(`${release.length} Redis entries were still being handled at close; released to the group for redelivery.`);
      // Recorded before anyone can take them, so their next delivery costs no failure budget.
      await Promise.all(
        [...this.inFlight].map(([id, state]) =>
          state.eventId === undefined ? undefined : this.writeRecord(id, { ...(state.record ?? emptyRecord(state.eventId)), releases: (state.record?.releases ?? 0) + 1 }),
        ),
      );
    }
    // Waiting entries keep their backoff: idle so that others take them when it runs out.
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      release.push([id, Math.max(0, reclaimIdleMs - Math.max(0, w.due - Date.now()))]);
    }
    this.waiting.clear();
    for (const [id, backoffMs] of this.released) release.push([id, Math.max(0, reclaimIdleMs - backoffMs)]);
    for (const [id, idle] of release) await this.touch([id], idle).catch(() => undefined);
  }

  private get logger(): LoggerService {
    return this.ctx.host.logger;
  }
}

function unionOf(a: readonly string[] | undefined, b: ReadonlySet<string> | undefined): ReadonlySet<string> | undefined {
  if (a === undefined || a.length === 0) return b;
  if (b === undefined || b.size === 0) return new Set(a);
  return new Set([...a, ...b]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
