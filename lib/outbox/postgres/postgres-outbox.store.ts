import pg from 'pg';
import type { EventHeaders } from '../../event-envelope.js';
import type { OutboxStatement } from '../outbox-adapter.interface.js';
import type { ClaimedOutboxRecord, NewOutboxRecord, OutboxCounts, OutboxDeadLetter, OutboxStore } from '../outbox-store.interface.js';
import { applyOutboxMigrations } from './migrations.js';
import { resolveTableNames, type OutboxTableNames, type ResolvedTableNames } from './outbox-tables.js';

interface ClaimedRow {
  seq: string;
  event_id: string;
  name: string;
  payload: unknown;
  headers: EventHeaders;
  correlation_id: string | null;
  ordering_key: string | null;
  attempts: number;
}

/** The outbox on PostgreSQL: a `pg` Pool for the relay, statements for the caller's transaction. */
export class PostgresOutboxStore implements OutboxStore {
  readonly names: ResolvedTableNames;
  private readonly insertText: string;
  private readonly inboxText: string;
  private readonly claimText: string;

  constructor(
    readonly pool: pg.Pool,
    names: OutboxTableNames = {},
  ) {
    this.names = resolveTableNames(names);
    const { outbox, inbox } = this.names;
    // NOTIFY is transactional: the relay is woken at commit, never for a rolled-back event.
    this.insertText =
      `WITH inserted AS (INSERT INTO ${outbox} (event_id, name, payload, headers, correlation_id, ordering_key) ` +
      `VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6) RETURNING seq) ` +
      `SELECT pg_notify($7, '') AS notified FROM inserted`;
    this.inboxText = `INSERT INTO ${inbox} (event_id, handler) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING event_id`;
    // SKIP LOCKED: relays never wait on each other. A keyed row is claimable only when no earlier row of
    // its key is still pending (leased, backing off, or not yet claimed), so a key's events leave in order.
    this.claimText =
      `WITH claimable AS (` +
      `SELECT o.seq FROM ${outbox} o WHERE o.status = 'pending' AND o.available_at <= now() ` +
      `AND (o.leased_until IS NULL OR o.leased_until < now()) ` +
      `AND (o.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM ${outbox} e WHERE e.status = 'pending' AND e.ordering_key = o.ordering_key AND e.seq < o.seq)) ` +
      `ORDER BY o.seq LIMIT $1 FOR UPDATE SKIP LOCKED) ` +
      `UPDATE ${outbox} t SET leased_until = now() + $2 * interval '1 millisecond', leased_by = $3 ` +
      `FROM claimable c WHERE t.seq = c.seq ` +
      `RETURNING t.seq, t.event_id, t.name, t.payload, t.headers, t.correlation_id, t.ordering_key, t.attempts`;
  }

  migrate(): Promise<void> {
    return applyOutboxMigrations(this.pool, this.names);
  }

  insertStatement(record: NewOutboxRecord): OutboxStatement {
    return {
      text: this.insertText,
      values: [record.id, record.name, record.payload, JSON.stringify(record.headers), record.correlationId ?? null, record.key ?? null, this.names.channel],
    };
  }

  inboxStatement(eventId: string, handler: string): OutboxStatement {
    return { text: this.inboxText, values: [eventId, handler] };
  }

  async claim(relayId: string, limit: number, leaseMs: number): Promise<ClaimedOutboxRecord[]> {
    const { rows } = await this.pool.query<ClaimedRow>(this.claimText, [limit, leaseMs, relayId]);
    // RETURNING has no order: restore seq order (bigint as text, compared as numbers).
    rows.sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1));
    return rows.map((row) => ({
      seq: row.seq,
      id: row.event_id,
      name: row.name,
      payload: row.payload,
      headers: row.headers,
      correlationId: row.correlation_id,
      key: row.ordering_key,
      attempts: row.attempts,
    }));
  }

  async markPublished(relayId: string, seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.names.outbox} SET status = 'published', published_at = now(), leased_until = NULL, leased_by = NULL, last_error = NULL ` +
        `WHERE seq = ANY($1::bigint[]) AND leased_by = $2 AND status = 'pending'`,
      [seqs, relayId],
    );
  }

  async markFailed(relayId: string, seq: string, error: string, retryInMs: number, dead: boolean): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.names.outbox} SET attempts = attempts + 1, last_error = $3, leased_until = NULL, leased_by = NULL, ` +
        `available_at = now() + $4 * interval '1 millisecond', status = $5 WHERE seq = $1 AND leased_by = $2 AND status = 'pending'`,
      [seq, relayId, error, retryInMs, dead ? 'dead' : 'pending'],
    );
  }

  async release(relayId: string, seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.pool.query(
      `UPDATE ${this.names.outbox} SET leased_until = NULL, leased_by = NULL WHERE seq = ANY($1::bigint[]) AND leased_by = $2 AND status = 'pending'`,
      [seqs, relayId],
    );
  }

  async cleanup(retainPublishedMs: number, retainInboxMs: number): Promise<{ outbox: number; inbox: number }> {
    const outbox = await this.pool.query(
      `DELETE FROM ${this.names.outbox} WHERE status = 'published' AND published_at < now() - $1 * interval '1 millisecond'`,
      [retainPublishedMs],
    );
    const inbox = await this.pool.query(`DELETE FROM ${this.names.inbox} WHERE processed_at < now() - $1 * interval '1 millisecond'`, [retainInboxMs]);
    return { outbox: outbox.rowCount ?? 0, inbox: inbox.rowCount ?? 0 };
  }

  async deadLetters(limit: number): Promise<OutboxDeadLetter[]> {
    const { rows } = await this.pool.query(
      `SELECT event_id, name, payload, ordering_key, attempts, last_error, occurred_at FROM ${this.names.outbox} WHERE status = 'dead' ORDER BY seq LIMIT $1`,
      [limit],
    );
    return rows.map((row) => ({
      id: row.event_id,
      name: row.name,
      payload: row.payload,
      key: row.ordering_key,
      attempts: row.attempts,
      lastError: row.last_error,
      occurredAt: row.occurred_at,
    }));
  }

  async redrive(eventIds?: readonly string[]): Promise<number> {
    const result = await this.pool.query(
      `UPDATE ${this.names.outbox} SET status = 'pending', attempts = 0, available_at = now(), last_error = NULL ` +
        `WHERE status = 'dead' AND ($1::text[] IS NULL OR event_id = ANY($1::text[]))`,
      [eventIds ?? null],
    );
    if ((result.rowCount ?? 0) > 0) await this.pool.query('SELECT pg_notify($1, $2)', [this.names.channel, '']);
    return result.rowCount ?? 0;
  }

  async purgeDeadLetters(eventIds?: readonly string[]): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM ${this.names.outbox} WHERE status = 'dead' AND ($1::text[] IS NULL OR event_id = ANY($1::text[]))`,
      [eventIds ?? null],
    );
    return result.rowCount ?? 0;
  }

  async counts(): Promise<OutboxCounts> {
    const { rows } = await this.pool.query<{ status: keyof OutboxCounts; n: string }>(
      `SELECT status, count(*) AS n FROM ${this.names.outbox} GROUP BY status`,
    );
    const counts: OutboxCounts = { pending: 0, published: 0, dead: 0 };
    for (const row of rows) counts[row.status] = Number(row.n);
    return counts;
  }

  async listen(wake: () => void, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    let stopped = false;
    let client: pg.PoolClient | undefined;
    let retry: NodeJS.Timeout | undefined;
    const channel = `"${this.names.channel}"`;
    const connect = async (): Promise<void> => {
      try {
        const next = await this.pool.connect();
        next.on('notification', wake);
        next.on('error', (error) => {
          onError(error);
          next.release(true);
          if (client === next) client = undefined;
          scheduleReconnect();
        });
        await next.query(`LISTEN ${channel}`);
        if (stopped) {
          next.release(true);
          return;
        }
        client = next;
        // Rows committed while nobody listened are found by this poll.
        wake();
      } catch (error) {
        onError(error);
        scheduleReconnect();
      }
    };
    const scheduleReconnect = () => {
      if (stopped || retry !== undefined) return;
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, 1000);
    };
    await connect();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      const held = client;
      client = undefined;
      if (held !== undefined) {
        // Destroyed rather than pooled: it carries our notification listener.
        held.release(true);
      }
    };
  }
}
