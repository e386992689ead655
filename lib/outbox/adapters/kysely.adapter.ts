import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { OutboxTransactionRequiredError } from '../errors.js';
import type { OutboxStatement, OutboxTransactionAdapter } from '../outbox-adapter.interface.js';

/**
 * Kysely (PostgresDialect): the transaction is the `trx` of `db.transaction().execute(async (trx) => ...)`.
 * With a `db`, inbox handlers get a trx of their own.
 */
export class KyselyOutboxAdapter<DB = any> implements OutboxTransactionAdapter<Transaction<DB>> {
  readonly name = 'kysely';

  constructor(private readonly db?: Kysely<DB>) {}

  async execute(trx: Transaction<DB>, statement: OutboxStatement): Promise<unknown[]> {
    if (trx === null || typeof trx !== 'object' || trx.isTransaction !== true) {
      throw new OutboxTransactionRequiredError(
        'outbox.publish() with the Kysely adapter needs the trx of db.transaction().execute(async (trx) => ...); the Kysely instance itself is not a transaction.',
      );
    }
    const result = await trx.executeQuery(CompiledQuery.raw(statement.text, [...statement.values]));
    return result.rows as unknown[];
  }

  transaction<T>(work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    if (this.db === undefined) {
      return Promise.reject(new OutboxTransactionRequiredError('new KyselyOutboxAdapter(db): inbox handlers need a Kysely instance to open their transactions on.'));
    }
    return this.db.transaction().execute(work);
  }
}
