import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { OutboxTransactionRequiredError } from '../errors.js';
import type { OutboxStatement, OutboxTransactionAdapter } from '../outbox-adapter.interface.js';

/**
 * TypeORM (postgres driver): the transaction is the `EntityManager` that `dataSource.transaction()`
 * hands out, or a `QueryRunner` after `startTransaction()`. With a `dataSource`, inbox handlers get
 * an EntityManager in a transaction of their own.
 */
export class TypeOrmOutboxAdapter implements OutboxTransactionAdapter<EntityManager | QueryRunner> {
  readonly name = 'typeorm';

  constructor(private readonly dataSource?: DataSource) {}

  async execute(transaction: EntityManager | QueryRunner, statement: OutboxStatement): Promise<unknown[]> {
    const runner = queryRunnerOf(transaction);
    if (runner === undefined || !runner.isTransactionActive || runner.isReleased) {
      throw new OutboxTransactionRequiredError(
        'outbox.publish() with the TypeORM adapter needs the EntityManager of dataSource.transaction(async (manager) => ...) ' +
          'or a QueryRunner after startTransaction(); this one is not inside a transaction (the global dataSource.manager never is).',
      );
    }
    const result = await runner.query(statement.text, statement.values as unknown[], true);
    return result.records;
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (this.dataSource === undefined) {
      return Promise.reject(new OutboxTransactionRequiredError('new TypeOrmOutboxAdapter(dataSource): inbox handlers need a DataSource to open their transactions on.'));
    }
    return this.dataSource.transaction(work);
  }
}

function queryRunnerOf(transaction: EntityManager | QueryRunner): QueryRunner | undefined {
  if (transaction === null || typeof transaction !== 'object') return undefined;
  // A QueryRunner has its own manager; an EntityManager has a queryRunner only inside a transaction.
  if ('isTransactionActive' in transaction && 'manager' in transaction) return transaction;
  return (transaction as EntityManager).queryRunner;
}
