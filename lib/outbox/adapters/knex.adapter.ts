import type { Knex } from 'knex';
import { OutboxTransactionRequiredError } from '../errors.js';
import type { OutboxStatement, OutboxTransactionAdapter } from '../outbox-adapter.interface.js';

/**
 * Knex (pg client): the transaction is the `trx` of `knex.transaction(async (trx) => ...)`. With a
 * `knex` instance, inbox handlers get a trx of their own.
 */
export class KnexOutboxAdapter implements OutboxTransactionAdapter<Knex.Transaction> {
  readonly name = 'knex';

  constructor(private readonly knex?: Knex) {}

  async execute(trx: Knex.Transaction, statement: OutboxStatement): Promise<unknown[]> {
    if (typeof trx !== 'function' || trx.isTransaction !== true || trx.isCompleted()) {
      throw new OutboxTransactionRequiredError(
        'outbox.publish() with the Knex adapter needs the open trx of knex.transaction(async (trx) => ...); ' +
          'the knex instance itself, or a committed trx, is not a transaction.',
      );
    }
    // Knex binds `?` placeholders; the statements use `$n` (each at most once, in order).
    const values: unknown[] = [];
    const text = statement.text.replace(/\$(\d+)/g, (_, n: string) => {
      values.push(statement.values[Number(n) - 1]);
      return '?';
    });
    const result = (await trx.raw(text, values as Knex.RawBinding[])) as { rows: unknown[] };
    return result.rows;
  }

  transaction<T>(work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    if (this.knex === undefined) {
      return Promise.reject(new OutboxTransactionRequiredError('new KnexOutboxAdapter(knex): inbox handlers need a knex instance to open their transactions on.'));
    }
    return this.knex.transaction(work);
  }
}
