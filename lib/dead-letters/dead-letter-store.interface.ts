import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { DeadLetterFilter, DeadLetterRecord, RedriveResult } from './dead-letter.interface.js';

/**
 * How a store delivers a dead letter again: a fresh delivery of `envelope` to the named local handlers
 * only (every other handler of the event already succeeded), with `headers` added.
 */
export type Redeliver = (envelope: EventEnvelope, handlers: ReadonlySet<string>, headers: Record<string, string>) => Promise<DeliveryReport>;

/**
 * Where one transport keeps its dead letters. `DeadLetters` is the one API over it. A store makes
 * `redrive` idempotent: a dead letter is delivered again at most once, however often it is redriven.
 */
export interface DeadLetterStore {
  /** Newest first. */
  list(filter: DeadLetterFilter, limit: number): Promise<DeadLetterRecord[]>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  redrive(id: string, redeliver: Redeliver): Promise<RedriveResult>;
  /** Removes the matching dead letters; resolves with how many. */
  purge(filter: DeadLetterFilter): Promise<number>;
}

/** Implemented by a transport that keeps dead letters on its broker (checked at run time, so optional). */
export interface DeadLetterStoreProvider {
  deadLetterStore(): DeadLetterStore;
}

export function providesDeadLetterStore(transport: unknown): transport is DeadLetterStoreProvider {
  return typeof transport === 'object' && transport !== null && typeof (transport as DeadLetterStoreProvider).deadLetterStore === 'function';
}
