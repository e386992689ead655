import type { ClientBase, Pool } from 'pg';
import { OutboxTransactionRequiredError } from '../errors.js';
import type { OutboxStatement, OutboxTransactionAdapter } from '../outbox-adapter.interface.js';

/** SQLSTATE of a statement sent to a transaction that already failed. */
const IN_FAILED_SQL_TRANSACTION = '25P02';
const FAILED_TRANSACTION = 'The transaction given to outbox.publish() has already failed (a statement in it threw): roll it back.';

/**
 * node-postgres: the transaction is the `PoolClient` (or `Client`) on which the caller ran `BEGIN`.
 * With a `pool`, inbox handlers get a PoolClient in a transaction of their own.
 */
export class PgOutboxAdapter implements OutboxTransactionAdapter<ClientBase> {
  readonly name = 'pg';

  constructor(private readonly pool?: Pool) {}

  async execute(client: ClientBase, statement: OutboxStatement): Promise<unknown[]> {
    if (client === null || typeof client !== 'object' || typeof client.query !== 'function') {
      throw new OutboxTransactionRequiredError(
        'outbox.publish(trx, ...) with the pg adapter needs the PoolClient (or Client) the transaction runs on: ' +
          'const client = await pool.connect(); await client.query("BEGIN"); await outbox.publish(client, ...).',
      );
    }
    if (typeof client.getTransactionStatus !== 'function') {
      throw new OutboxTransactionRequiredError('The pg adapter needs pg >= 8.21 (Client#getTransactionStatus; the native client is not supported) to check that a transaction is open.');
    }
    const status = client.getTransactionStatus();
    if (status === 'E') throw new OutboxTransactionRequiredError(FAILED_TRANSACTION);
    if (status !== 'T') {
      throw new OutboxTransactionRequiredError(
        'outbox.publish() was given a pg client that is not inside a transaction: run client.query("BEGIN") first. ' +
          'The outbox never writes outside your transaction, so the event leaves only if your writes commit.',
      );
    }
    try {
      const result = await client.query(statement.text, statement.values as unknown[]);
      return result.rows;
    } catch (error) {
      // pg rejects a failed statement before the server's ReadyForQuery updates the status, so a
      // transaction that failed a moment ago can still read 'T' here: the server's answer decides.
      if ((error as { code?: unknown }).code === IN_FAILED_SQL_TRANSACTION) throw new OutboxTransactionRequiredError(FAILED_TRANSACTION);
      throw error;
    }
  }

  async transaction<T>(work: (client: ClientBase) => Promise<T>): Promise<T> {
    if (this.pool === undefined) throw new OutboxTransactionRequiredError('new PgOutboxAdapter(pool): inbox handlers need a pool to open their transactions on.');
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      // A connection that could not even roll back is not given back to the pool.
      client.release(broken);
    }
  }
}
