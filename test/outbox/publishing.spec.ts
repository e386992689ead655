/** outbox.publish(trx, ...) with pg: the event leaves if and only if the caller's transaction commits. */
import { Injectable } from '@nestjs/common';
import { Event, EventBus, OnEvent, OnEventClass, type EventEnvelope } from '../../lib/index.js';
import { Outbox, OutboxTransactionRequiredError, applyOutboxMigrations, outboxMigrationSql } from '../../lib/outbox/index.js';
import { describeWithPostgres, eventually, setUpPostgresSuite, uniqueSchema } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

@Injectable()
class OrderListener {
  readonly received: EventEnvelope[] = [];
  @OnEvent('order.*')
  onOrder(_payload: unknown, envelope: EventEnvelope) {
    this.received.push(envelope);
  }
  ids(name?: string) {
    return this.received.filter((e) => name === undefined || e.name === name).map((e) => e.id);
  }
}

describePg('outbox publishing (pg)', () => {
  const suite = setUpPostgresSuite('publishing');

  beforeAll(async () => {
    await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
    await suite.pool.query(`CREATE TABLE ${suite.schema}.orders (id int PRIMARY KEY, item text NOT NULL)`);
  });

  it('delivers a committed event once, with its stored id, payload, headers and correlation id', async () => {
    const app = await suite.startApp([OrderListener]);
    const outbox = app.get(Outbox);
    const listener = app.get(OrderListener);
    const receipt = await suite.inTransaction(async (client) => {
      await client.query(`INSERT INTO ${suite.schema}.orders VALUES (1, 'coffee')`);
      return outbox.publish(client, 'order.placed', { orderId: 1, item: 'coffee' }, { headers: { tenant: 'a' }, correlationId: 'corr-1' });
    });
    await eventually(() => listener.received.length === 1);
    const [envelope] = listener.received;
    expect(envelope.id).toBe(receipt.id);
    expect(envelope.name).toBe('order.placed');
    expect(envelope.payload).toEqual({ orderId: 1, item: 'coffee' });
    expect(envelope.headers).toEqual({ tenant: 'a' });
    expect(envelope.correlationId).toBe('corr-1');
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_outbox WHERE event_id = $1 AND status = 'published'`, [receipt.id])).length === 1);
    // A later event is delivered after it: the first was not delivered again meanwhile.
    await suite.inTransaction((client) => outbox.publish(client, 'order.marker', null));
    await eventually(() => listener.ids('order.marker').length === 1);
    expect(listener.ids('order.placed')).toEqual([receipt.id]);
  });

  it('never delivers an event whose transaction rolled back, nor one written in a savepoint rolled back', async () => {
    const app = await suite.startApp([OrderListener]);
    const outbox = app.get(Outbox);
    const listener = app.get(OrderListener);
    let rolledBack: string | undefined;
    await expect(
      suite.inTransaction(async (client) => {
        await client.query(`INSERT INTO ${suite.schema}.orders VALUES (2, 'tea')`);
        rolledBack = (await outbox.publish(client, 'order.placed', { orderId: 2 })).id;
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    let inSavepoint: string | undefined;
    const kept = await suite.inTransaction(async (client) => {
      await client.query('SAVEPOINT attempt');
      inSavepoint = (await outbox.publish(client, 'order.placed', { orderId: 3 })).id;
      await client.query('ROLLBACK TO SAVEPOINT attempt');
      return outbox.publish(client, 'order.kept', { orderId: 3 });
    });
    const marker = await suite.inTransaction((client) => outbox.publish(client, 'order.marker', null));
    // Rows leave in seq order within a batch: once the marker arrived, everything before it did.
    await eventually(() => listener.ids('order.marker').includes(marker.id));
    expect(listener.ids()).not.toContain(rolledBack);
    expect(listener.ids()).not.toContain(inSavepoint);
    expect(listener.ids('order.kept')).toEqual([kept.id]);
    const rows = await suite.rows(`SELECT event_id FROM ${suite.schema}.event_bus_outbox WHERE event_id = ANY($1)`, [[rolledBack, inSavepoint]]);
    expect(rows).toEqual([]);
  });

  it('refuses without an open transaction, writing nothing', async () => {
    const app = await suite.startApp([], { relay: false });
    const outbox = app.get(Outbox);
    const client = await suite.pool.connect();
    try {
      await expect(outbox.publish(client, 'order.placed', { orderId: 4 })).rejects.toThrow(OutboxTransactionRequiredError);
      await expect(outbox.publish(client, 'order.placed', { orderId: 4 })).rejects.toThrow(/not inside a transaction: run client.query\("BEGIN"\)/);
      await expect(outbox.publish(suite.pool as any, 'order.placed', { orderId: 4 })).rejects.toThrow(OutboxTransactionRequiredError);
      await expect(outbox.publish(undefined, 'order.placed', { orderId: 4 })).rejects.toThrow(OutboxTransactionRequiredError);
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => undefined);
      // Asked at once and after the server's ReadyForQuery arrived: pg rejects the failed statement before
      // it updates the status, so the first call can see 'T' (CI once did) and must still refuse cleanly.
      await expect(outbox.publish(client, 'order.placed', { orderId: 4 })).rejects.toThrow(/already failed/);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await expect(outbox.publish(client, 'order.placed', { orderId: 4 })).rejects.toThrow(/already failed/);
      // The stale read made deterministic: the status still says 'T', the server knows better.
      const stale = client as typeof client & { getTransactionStatus(): string };
      stale.getTransactionStatus = () => 'T';
      try {
        await expect(outbox.publish(client, 'order.placed', { orderId: 4 })).rejects.toThrow(OutboxTransactionRequiredError);
      } finally {
        delete (stale as Partial<typeof stale>).getTransactionStatus;
      }
    } finally {
      // Never give the pool a client in a transaction: the next test would inherit it.
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    expect(await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_outbox WHERE payload->>'orderId' = '4'`)).toEqual([]);
  });

  it('refuses bad input before writing: a pattern as a name, a payload JSON cannot hold, an empty key', async () => {
    const app = await suite.startApp([], { relay: false });
    const outbox = app.get(Outbox);
    await suite.inTransaction(async (client) => {
      await expect(outbox.publish(client, 'order.*', {})).rejects.toThrow(/pattern/);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await expect(outbox.publish(client, 'order.placed', circular)).rejects.toThrow(/cannot be stored in the outbox as JSON/);
      await expect(outbox.publish(client, 'order.placed', {}, { key: '' })).rejects.toThrow(/ordering key/);
    });
  });

  it('ships idempotent migrations with configurable schema and table names, and the relay works on them', async () => {
    const schema = uniqueSchema('names');
    try {
      await applyOutboxMigrations(suite.pool, { schema, table: 'my_outbox', inboxTable: 'my_inbox' });
      await applyOutboxMigrations(suite.pool, { schema, table: 'my_outbox', inboxTable: 'my_inbox' });
      const tables = await suite.rows(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
      expect(tables.map((t) => t.table_name)).toEqual(['my_inbox', 'my_outbox']);
      const indexes = await suite.rows(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = 'my_outbox' ORDER BY 1`, [schema]);
      expect(indexes.map((i) => i.indexname)).toEqual(
        expect.arrayContaining(['my_outbox_pending_idx', 'my_outbox_pending_key_idx', 'my_outbox_published_idx', 'my_outbox_event_id_key']),
      );
      expect(outboxMigrationSql({ schema, table: 'my_outbox' })).toContain(`CREATE TABLE IF NOT EXISTS ${schema}.my_outbox (`);
      expect(() => outboxMigrationSql({ table: 'Robert"; DROP TABLE x' })).toThrow(/`table` must be a lower-case SQL identifier/);

      @Injectable()
      class Listener {
        readonly ids: string[] = [];
        @OnEvent('named.table')
        on(_p: unknown, envelope: EventEnvelope) {
          this.ids.push(envelope.id);
        }
      }
      const app = await suite.startApp([Listener], { schema, table: 'my_outbox', inboxTable: 'my_inbox', migrate: false });
      const receipt = await suite.inTransaction((client) => app.get(Outbox).publish(client, 'named.table', 1));
      await eventually(() => app.get(Listener).ids.length === 1);
      expect(app.get(Listener).ids).toEqual([receipt.id]);
    } finally {
      await suite.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    }
  });

  it('publishes a class event: stored under its @Event name, handed to class handlers as an instance again', async () => {
    @Event('order.boxed')
    class OrderBoxed {
      constructor(
        readonly orderId: number,
        readonly boxes: number,
      ) {}
      get heavy(): boolean {
        return this.boxes > 2;
      }
    }
    const received: OrderBoxed[] = [];
    @Injectable()
    class BoxListener {
      @OnEventClass(OrderBoxed)
      on(event: OrderBoxed) {
        received.push(event);
      }
    }
    const app = await suite.startApp([BoxListener]);
    const receipt = await suite.inTransaction((client) => app.get(Outbox).publish(client, new OrderBoxed(7, 3)));
    expect(receipt.name).toBe('order.boxed');
    await eventually(() => received.length === 1);
    expect(received[0]).toBeInstanceOf(OrderBoxed);
    expect([received[0].orderId, received[0].heavy]).toEqual([7, true]);
  });

  it('publishes through the bus with publishAndWait (the relay waits for in-process handlers)', async () => {
    const app = await suite.startApp([OrderListener]);
    const bus = app.get(EventBus);
    const seen: string[] = [];
    bus.on('order.observed', (_p, e) => {
      seen.push(e.id);
    });
    const receipt = await suite.inTransaction((client) => app.get(Outbox).publish(client, 'order.observed', { n: 1 }));
    await eventually(() => seen.length === 1);
    expect(seen).toEqual([receipt.id]);
  });
});
