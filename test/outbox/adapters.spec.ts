/**
 * The TypeORM, Knex and Kysely adapters, each with a real transaction of its library: a committed
 * event is delivered, a rolled-back one never, no transaction is refused, and inbox handlers receive
 * that library's transaction object.
 */
import { Injectable } from '@nestjs/common';
import knexFactory, { type Knex } from 'knex';
import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { DataSource, type EntityManager } from 'typeorm';
import { EventBus, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { KnexOutboxAdapter } from '../../lib/outbox/adapters/knex.adapter.js';
import { KyselyOutboxAdapter } from '../../lib/outbox/adapters/kysely.adapter.js';
import { TypeOrmOutboxAdapter } from '../../lib/outbox/adapters/typeorm.adapter.js';
import { Outbox, OutboxTransactionRequiredError, inbox, type OutboxTransactionAdapter } from '../../lib/outbox/index.js';
import { DATABASE_URL, describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

/** What each library case provides: how to run a transaction, how to write a business row in it. */
interface LibraryCase<Trx> {
  name: string;
  open(): Promise<void>;
  close(): Promise<void>;
  adapter(): OutboxTransactionAdapter<Trx>;
  transaction<T>(work: (trx: Trx) => Promise<T>): Promise<T>;
  insert(trx: Trx, table: string, value: string): Promise<void>;
  /** The library's non-transaction handle (refused by the adapter). */
  outside(): unknown;
}

function typeormCase(): LibraryCase<EntityManager> {
  let ds: DataSource;
  return {
    name: 'TypeORM (EntityManager of dataSource.transaction)',
    open: async () => {
      ds = new DataSource({ type: 'postgres', url: DATABASE_URL, entities: [], synchronize: false, logging: false });
      await ds.initialize();
    },
    close: () => ds.destroy(),
    adapter: () => new TypeOrmOutboxAdapter(ds),
    transaction: (work) => ds.transaction(work),
    insert: async (manager, table, value) => {
      await manager.query(`INSERT INTO ${table} (value) VALUES ($1)`, [value]);
    },
    outside: () => ds.manager,
  };
}

function knexCase(): LibraryCase<Knex.Transaction> {
  let knex: Knex;
  return {
    name: 'Knex (trx of knex.transaction)',
    open: async () => {
      knex = knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 3 } });
    },
    close: () => knex.destroy(),
    adapter: () => new KnexOutboxAdapter(knex),
    transaction: (work) => knex.transaction(work),
    insert: async (trx, table, value) => {
      await trx.raw(`INSERT INTO ${table} (value) VALUES (?)`, [value]);
    },
    outside: () => knex,
  };
}

function kyselyCase(): LibraryCase<Transaction<any>> {
  let db: Kysely<any>;
  return {
    name: 'Kysely (trx of db.transaction().execute)',
    open: async () => {
      db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: DATABASE_URL, max: 3 }) }) });
    },
    close: () => db.destroy(),
    adapter: () => new KyselyOutboxAdapter(db),
    transaction: (work) => db.transaction().execute(work),
    insert: async (trx, table, value) => {
      await sql`INSERT INTO ${sql.raw(table)} (value) VALUES (${value})`.execute(trx);
    },
    outside: () => db,
  };
}

describePg.each([typeormCase(), knexCase(), kyselyCase()].map((c) => [c.name, c] as const))('outbox adapter: %s', (_name, library: LibraryCase<any>) => {
  const suite = setUpPostgresSuite('adapter');
  const orders = () => `${suite.schema}.orders`;

  beforeAll(async () => {
    await library.open();
    await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
    await suite.pool.query(`CREATE TABLE ${orders()} (n serial PRIMARY KEY, value text NOT NULL)`);
  });
  afterAll(() => library.close());

  @Injectable()
  class Listener {
    readonly received: EventEnvelope[] = [];
    @OnEvent('order.*')
    on(_p: unknown, envelope: EventEnvelope) {
      this.received.push(envelope);
    }
  }

  it('delivers a committed event, never a rolled-back one', async () => {
    const app = await suite.startApp([Listener], { adapter: library.adapter() });
    const outbox = app.get(Outbox);
    const committed = await library.transaction(async (trx) => {
      await library.insert(trx, orders(), 'kept');
      return outbox.publish(trx, 'order.placed', { value: 'kept' });
    });
    let rolledBack: string | undefined;
    await expect(
      library.transaction(async (trx) => {
        await library.insert(trx, orders(), 'lost');
        rolledBack = (await outbox.publish(trx, 'order.placed', { value: 'lost' })).id;
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const marker = await library.transaction((trx) => outbox.publish(trx, 'order.marker', null));
    await eventually(() => app.get(Listener).received.some((e) => e.id === marker.id));
    const ids = app.get(Listener).received.map((e) => e.id);
    expect(ids.filter((id) => id !== marker.id)).toEqual([committed.id]);
    expect(ids).not.toContain(rolledBack);
    expect((await suite.rows(`SELECT value FROM ${orders()}`)).map((r) => r.value)).toEqual(['kept']);
  });

  it('refuses the library handle that is not a transaction, writing nothing', async () => {
    const app = await suite.startApp([], { adapter: library.adapter(), relay: false });
    await expect(app.get(Outbox).publish(library.outside(), 'order.placed', { value: 'outside' })).rejects.toThrow(OutboxTransactionRequiredError);
    expect(await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_outbox WHERE payload->>'value' = 'outside'`)).toEqual([]);
  });

  it("runs inbox handlers in the library's own transaction: one effect for an event handled twice", async () => {
    const seen: unknown[] = [];
    @Injectable()
    class InboxListener {
      @OnEvent('order.paid', inbox())
      async on(payload: { value: string }, _e: EventEnvelope, trx: unknown) {
        seen.push(trx);
        await library.insert(trx, orders(), payload.value);
      }
    }
    const app = await suite.startApp([InboxListener], { adapter: library.adapter(), relay: false });
    const bus = app.get(EventBus);
    await bus.publishAndWait('order.paid', { value: 'paid-once' }, { id: `paid-${library.adapter().name}` });
    await bus.publishAndWait('order.paid', { value: 'paid-once' }, { id: `paid-${library.adapter().name}` });
    expect(seen).toHaveLength(1);
    expect(await suite.rows(`SELECT 1 FROM ${orders()} WHERE value = 'paid-once'`)).toHaveLength(1);
  });
});

describePg('outbox adapter: TypeORM QueryRunner', () => {
  const suite = setUpPostgresSuite('queryrunner');
  let ds: DataSource;
  beforeAll(async () => {
    ds = new DataSource({ type: 'postgres', url: DATABASE_URL, entities: [], synchronize: false, logging: false });
    await ds.initialize();
  });
  afterAll(() => ds.destroy());

  it('writes through a QueryRunner after startTransaction(), refuses it before and after', async () => {
    const app = await suite.startApp([], { adapter: new TypeOrmOutboxAdapter(ds), relay: false });
    const outbox = app.get(Outbox);
    const runner = ds.createQueryRunner();
    try {
      await expect(outbox.publish(runner, 'order.placed', { value: 'before' })).rejects.toThrow(OutboxTransactionRequiredError);
      await runner.startTransaction();
      const { id } = await outbox.publish(runner, 'order.placed', { value: 'inside' });
      await runner.commitTransaction();
      await expect(outbox.publish(runner, 'order.placed', { value: 'after' })).rejects.toThrow(OutboxTransactionRequiredError);
      const rows = await suite.rows(`SELECT event_id, payload->>'value' AS value FROM ${suite.schema}.event_bus_outbox`);
      expect(rows).toEqual([{ event_id: id, value: 'inside' }]);
    } finally {
      await runner.release();
    }
  });
});
