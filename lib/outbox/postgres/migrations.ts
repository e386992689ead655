import type { Pool } from 'pg';
import { OUTBOX_MIGRATION_TEMPLATE } from './outbox-sql.js';
import { resolveTableNames, type OutboxTableNames } from './outbox-tables.js';

/** The migration SQL for these names, for teams that run it with their own migration tool. */
export function outboxMigrationSql(names: OutboxTableNames = {}): string {
  const { schema, table, inboxTable } = resolveTableNames(names);
  return OUTBOX_MIGRATION_TEMPLATE
    .replaceAll('{{schema}}', schema)
    .replaceAll('{{outbox}}', table)
    .replaceAll('{{inbox}}', inboxTable);
}

/**
 * Creates (or completes) the outbox and inbox tables and their indexes. Idempotent; concurrent calls
 * (several instances starting at once) are serialised by an advisory lock.
 */
export async function applyOutboxMigrations(pool: Pool, names: OutboxTableNames = {}): Promise<void> {
  const resolved = resolveTableNames(names);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`nestjs-event-bus:${resolved.outbox}`]);
    await client.query(outboxMigrationSql(names));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
