import type { Observable, Subscription } from 'rxjs';
import type { EventEnvelope } from '../event-envelope.js';
import type { HandlerFailure } from '../interfaces/handler-failure.interface.js';
import { matchesDeadLetterFilter } from './dead-letter-filter.js';
import { REDRIVE_OF_HEADER, type DeadLetterFilter, type DeadLetterRecord, type RedriveResult } from './dead-letter.interface.js';
import type { DeadLetterStore, Redeliver } from './dead-letter-store.interface.js';

interface Kept {
  record: DeadLetterRecord;
  envelope: EventEnvelope;
}

/**
 * The in-process store: what `EventBus.deadLetters$` emits, kept in memory (lost on restart). Bounded:
 * past `capacity` the oldest dead letters are forgotten.
 */
export class InMemoryDeadLetterStore implements DeadLetterStore {
  /** Insertion order is dead-letter order (a Map iterates in insertion order). */
  private readonly kept = new Map<string, Kept>();
  /** Ids redriven (or being redriven), so a second redrive delivers nothing. Bounded like `kept`. */
  private readonly redriven = new Set<string>();
  private readonly subscription: Subscription;
  private sequence = 0;

  constructor(
    deadLetters$: Observable<HandlerFailure>,
    private readonly capacity: number,
  ) {
    this.subscription = deadLetters$.subscribe((failure) => this.keep(failure));
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  async list(filter: DeadLetterFilter, limit: number): Promise<DeadLetterRecord[]> {
    const found: DeadLetterRecord[] = [];
    for (const { record } of [...this.kept.values()].reverse()) {
      if (found.length >= limit) break;
      if (matchesDeadLetterFilter(record, filter)) found.push(record);
    }
    return found;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    return this.kept.get(id)?.record;
  }

  async redrive(id: string, redeliver: Redeliver): Promise<RedriveResult> {
    const kept = this.kept.get(id);
    if (kept === undefined || this.redriven.has(id)) {
      return { id, outcome: this.redriven.has(id) ? 'already-redriven' : 'not-found' };
    }
    const handler = kept.record.handler!;
    // Claimed before the first await: a second redrive meanwhile finds it taken.
    this.remember(id);
    let report;
    try {
      report = await redeliver(kept.envelope, new Set([handler]), { [REDRIVE_OF_HEADER]: id });
    } catch (error) {
      this.redriven.delete(id);
      return { id, outcome: 'not-redrivable', detail: String(error) };
    }
    if (report.handled === 0 && report.failed.length === 0) {
      // The handler is not registered here any more (or its filter declined): nothing ran, keep the letter.
      this.redriven.delete(id);
      return { id, outcome: 'not-redrivable', detail: `${handler} did not run: it is not registered for this event here, or its filter declined it` };
    }
    this.kept.delete(id);
    if (report.failed.length === 0) return { id, outcome: 'delivered' };
    // The failure was kept from deadLetters$ before the report resolved.
    const again = [...this.kept.values()].reverse().find((k) => k.record.redriveOf === id);
    return { id, outcome: 'failed-again', ...(again === undefined ? {} : { newDeadLetterId: again.record.id }) };
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    let removed = 0;
    for (const [id, { record }] of this.kept) {
      if (!matchesDeadLetterFilter(record, filter)) continue;
      this.kept.delete(id);
      removed++;
    }
    return removed;
  }

  private keep({ envelope, handler, error, attempt }: HandlerFailure): void {
    const id = String(++this.sequence);
    const redriveOf = envelope.headers[REDRIVE_OF_HEADER];
    this.kept.set(id, {
      envelope,
      record: {
        id,
        eventId: envelope.id,
        event: String(envelope.name),
        handler,
        reason: 'handler-failed',
        error: describeError(error),
        attempts: attempt,
        deadLetteredAt: new Date().toISOString(),
        correlationId: envelope.correlationId,
        ...(envelope.causationId === undefined ? {} : { causationId: envelope.causationId }),
        payload: envelope.payload,
        headers: { ...envelope.headers },
        ...(redriveOf === undefined ? {} : { redriveOf }),
        redrivable: true,
      },
    });
    if (this.kept.size > this.capacity) this.kept.delete(this.kept.keys().next().value as string);
  }

  private remember(id: string): void {
    this.redriven.add(id);
    if (this.redriven.size > this.capacity) this.redriven.delete(this.redriven.values().next().value as string);
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
