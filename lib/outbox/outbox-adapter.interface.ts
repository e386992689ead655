/** One SQL statement with `$1`-style placeholders (adapters translate them to their own dialect). */
export interface OutboxStatement {
  readonly text: string;
  readonly values: readonly unknown[];
}

/**
 * How the outbox writes through the caller's transaction object (a pg PoolClient, a TypeORM
 * EntityManager, a Knex or Kysely transaction). One small adapter per client library.
 */
export interface OutboxTransactionAdapter<TTransaction = unknown> {
  /** For messages: 'pg', 'typeorm', ... */
  readonly name: string;
  /**
   * Runs one statement inside `transaction` and resolves to the rows it returned. Throws
   * OutboxTransactionRequiredError, writing nothing, when `transaction` is not an open transaction:
   * the outbox never writes outside the caller's transaction (nor opens one behind its back).
   */
  execute(transaction: TTransaction, statement: OutboxStatement): Promise<unknown[]>;
  /**
   * Runs `work` in a transaction of the adapter's own connection (committed when `work` resolves,
   * rolled back when it throws). Needed for inbox handlers only; absent when the adapter was built
   * without a connection.
   */
  transaction?<T>(work: (transaction: TTransaction) => Promise<T>): Promise<T>;
}
