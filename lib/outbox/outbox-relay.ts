import type { LoggerService } from '@nestjs/common';
import type { EventBus } from '../event-bus.js';
import { EventBusClosedError, InvalidEventError } from '../errors.js';
import type { ResolvedRelayOptions } from './outbox.options.js';
import type { ClaimedOutboxRecord, OutboxStore } from './outbox-store.interface.js';

/**
 * Moves committed outbox rows to the bus: claims a batch under a lease (SKIP LOCKED, so relays share the
 * work), publishes each row with `publishAndWait` and its stored event id (with a transport: resolved
 * once the broker acknowledged it), then marks it published, or failed with backoff, or dead. Woken
 * by NOTIFY at commit; polls as the fallback. A crash anywhere leaves leased rows that the lease
 * expiry hands to the next relay: nothing is lost, a duplicate carries the same event id.
 */
export class OutboxRelay {
  private running = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private stopListening: (() => Promise<void>) | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  /** Rows leased and not yet settled, for release at shutdown. */
  private readonly inFlight = new Set<string>();
  /** Rows published and not yet marked (the mark failed): marked on the next round, not republished. */
  private unmarked: string[] = [];

  constructor(
    readonly relayId: string,
    private readonly store: OutboxStore,
    private readonly bus: EventBus,
    private readonly options: ResolvedRelayOptions,
    private readonly logger: LoggerService,
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    if (this.options.listen) {
      this.stopListening = await this.store.listen(this.wake, (error) =>
        this.logger.warn(`Outbox relay ${this.relayId}: LISTEN connection failed (${errorMessage(error)}); polling every ${this.options.pollIntervalMs}ms meanwhile.`),
      );
    }
    if (this.options.cleanupIntervalMs > 0) {
      this.cleanupTimer = setInterval(() => void this.cleanup(), this.options.cleanupIntervalMs);
      this.cleanupTimer.unref();
    }
    this.loop = this.run();
  }

  /** Stops claiming, waits up to `timeoutMs` for the batch in flight, and gives back what is left. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    clearInterval(this.cleanupTimer);
    this.wake();
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      this.loop!.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    await this.stopListening?.().catch(() => undefined);
    if (this.unmarked.length !== 0) await this.store.markPublished(this.relayId, this.unmarked).catch(() => undefined);
    if (!finished) this.logger.warn(`Outbox relay ${this.relayId}: ${this.inFlight.size} publishes did not finish within ${timeoutMs}ms; their rows are given back.`);
    await this.store.release(this.relayId, [...this.inFlight]).catch((error: unknown) =>
      this.logger.warn(`Outbox relay ${this.relayId}: could not give back ${this.inFlight.size} leased rows (${errorMessage(error)}); their lease will expire.`),
    );
    this.running = false;
  }

  /** Runs one cleanup now (it also runs every `cleanupIntervalMs`). */
  async cleanup(): Promise<void> {
    try {
      const removed = await this.store.cleanup(this.options.retainPublishedMs, this.options.retainInboxMs);
      if (removed.outbox + removed.inbox > 0) {
        this.logger.debug?.(`Outbox cleanup removed ${removed.outbox} published rows and ${removed.inbox} inbox records.`);
      }
    } catch (error) {
      this.logger.warn(`Outbox cleanup failed: ${errorMessage(error)}`);
    }
  }

  private readonly wake = (): void => {
    this.woken = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  };

  private async run(): Promise<void> {
    while (!this.stopping) {
      let claimed: ClaimedOutboxRecord[] = [];
      this.woken = false;
      try {
        if (this.unmarked.length !== 0) {
          await this.store.markPublished(this.relayId, this.unmarked);
          this.unmarked = [];
        }
        claimed = await this.store.claim(this.relayId, this.options.batchSize, this.options.leaseMs);
      } catch (error) {
        this.logger.error(`Outbox relay ${this.relayId}: claiming rows failed: ${errorMessage(error)}`);
      }
      if (claimed.length !== 0) {
        await this.publishBatch(claimed);
        // Claim again at once: more may wait, and a key's next event became claimable.
        continue;
      }
      if (this.stopping || this.woken) continue;
      await this.sleep(this.options.pollIntervalMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /**
   * A batch holds at most one row per key (the claim's ordering rule), so its rows can be published
   * concurrently without reordering a key.
   */
  private async publishBatch(rows: ClaimedOutboxRecord[]): Promise<void> {
    for (const row of rows) this.inFlight.add(row.seq);
    const published: string[] = [];
    await Promise.all(
      rows.map(async (row) => {
        if (this.stopping) return; // given back by stop()
        try {
          await this.publish(row);
          published.push(row.seq);
        } catch (error) {
          await this.failed(row, error);
        }
      }),
    );
    try {
      await this.store.markPublished(this.relayId, published);
    } catch (error) {
      // Retried before the next claim; should this process die first, the rows are published again (same ids).
      this.unmarked.push(...published);
      this.logger.error(`Outbox relay ${this.relayId}: marking ${published.length} rows published failed: ${errorMessage(error)}`);
    }
    for (const row of rows) if (!this.stopping || published.includes(row.seq)) this.inFlight.delete(row.seq);
  }

  private async publish(row: ClaimedOutboxRecord): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`not acknowledged within ${this.options.publishTimeoutMs}ms (relay.publishTimeoutMs)`)), this.options.publishTimeoutMs);
    });
    try {
      await Promise.race([
        this.bus.publishAndWait(row.name, this.revive(row), {
          id: row.id,
          correlationId: row.correlationId ?? undefined,
          headers: row.headers,
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A class event comes back as an instance of its class, where a handler here subscribes to the class. */
  private revive(row: ClaimedOutboxRecord): unknown {
    const payload = row.payload;
    if (typeof payload !== 'object' || payload === null || Object.getPrototypeOf(payload) !== Object.prototype) return payload;
    const eventClass = this.bus.eventClass(row.name);
    if (eventClass === undefined) return payload;
    const event = Object.create(eventClass.prototype as object) as object;
    // Own data properties, as the constructor made them (the bus revives transport payloads the same way).
    for (const key of Object.keys(payload)) {
      Object.defineProperty(event, key, { value: (payload as Record<string, unknown>)[key], writable: true, enumerable: true, configurable: true });
    }
    return event;
  }

  private async failed(row: ClaimedOutboxRecord, error: unknown): Promise<void> {
    if (error instanceof EventBusClosedError || this.stopping) return; // shutting down: not the row's fault
    const attempts = row.attempts + 1;
    // A row the bus refuses (a name or payload it cannot publish) would fail the same way every time.
    const dead = attempts >= this.options.maxAttempts || error instanceof InvalidEventError;
    const { initialDelayMs, factor, maxDelayMs, jitter } = this.options.backoff;
    let delay = Math.min(maxDelayMs, initialDelayMs * Math.pow(factor, attempts - 1));
    if (jitter) delay = Math.random() * delay;
    const what = `Outbox relay ${this.relayId}: publishing "${row.name}" (id ${row.id}) failed, attempt ${attempts}/${this.options.maxAttempts}`;
    if (dead) this.logger.error(`${what}; the row is dead (outbox.deadLetters(), outbox.redrive()): ${errorMessage(error)}`);
    else this.logger.warn(`${what}; retrying in ${Math.round(delay)}ms: ${errorMessage(error)}`);
    try {
      await this.store.markFailed(this.relayId, row.seq, errorMessage(error), delay, dead);
    } catch (markError) {
      this.logger.error(`Outbox relay ${this.relayId}: recording the failure of ${row.id} failed (${errorMessage(markError)}); its lease will expire.`);
    }
    this.inFlight.delete(row.seq);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
