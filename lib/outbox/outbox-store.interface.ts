import type { EventHeaders } from '../event-envelope.js';
import type { OutboxStatement } from './outbox-adapter.interface.js';

/** An event to write into the outbox. */
export interface NewOutboxRecord {
  id: string;
  name: string;
  /** JSON text of the payload. */
  payload: string | null;
  headers: EventHeaders;
  correlationId: string | undefined;
  key: string | undefined;
}

/** A row the relay claimed. */
export interface ClaimedOutboxRecord {
  seq: string;
  id: string;
  name: string;
  payload: unknown;
  headers: EventHeaders;
  correlationId: string | null;
  key: string | null;
  attempts: number;
}

/** A row that failed `maxAttempts` publishes: kept until redriven or purged. */
export interface OutboxDeadLetter {
  id: string;
  name: string;
  payload: unknown;
  key: string | null;
  attempts: number;
  lastError: string | null;
  occurredAt: Date;
}

export interface OutboxCounts {
  pending: number;
  published: number;
  dead: number;
}

/**
 * What the outbox needs from a database: statements written through the caller's transaction, and the
 * relay's claim/settle cycle on its own connection. PostgreSQL implements it; MySQL can follow.
 */
export interface OutboxStore {
  /** Creates the tables if needed. */
  migrate(): Promise<void>;
  /** The insert of one event (returns one row), run through the caller's transaction. */
  insertStatement(record: NewOutboxRecord): OutboxStatement;
  /** Records (event, handler) in the inbox; returns one row if new, none if already recorded. */
  inboxStatement(eventId: string, handler: string): OutboxStatement;
  /**
   * Leases up to `limit` publishable rows to `relayId` for `leaseMs`: pending, due, not leased, and
   * for a keyed row no earlier pending row with the same key. In seq order.
   */
  claim(relayId: string, limit: number, leaseMs: number): Promise<ClaimedOutboxRecord[]>;
  markPublished(relayId: string, seqs: readonly string[]): Promise<void>;
  /** A failed publish: retried after `retryInMs`, or dead when `dead`. */
  markFailed(relayId: string, seq: string, error: string, retryInMs: number, dead: boolean): Promise<void>;
  /** Gives leased rows back without counting an attempt (shutdown). */
  release(relayId: string, seqs: readonly string[]): Promise<void>;
  /** Deletes published rows and inbox records older than the retention; returns how many. */
  cleanup(retainPublishedMs: number, retainInboxMs: number): Promise<{ outbox: number; inbox: number }>;
  deadLetters(limit: number): Promise<OutboxDeadLetter[]>;
  /** Dead rows (all, or these event ids) back to pending with a fresh failure budget; returns how many. */
  redrive(eventIds?: readonly string[]): Promise<number>;
  /** Deletes dead rows (all, or these event ids); returns how many. */
  purgeDeadLetters(eventIds?: readonly string[]): Promise<number>;
  counts(): Promise<OutboxCounts>;
  /**
   * Calls `wake` when events were committed (LISTEN/NOTIFY). Resolves to a stop function. A lost
   * listening connection is re-established; polling covers the gap.
   */
  listen(wake: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>>;
}
