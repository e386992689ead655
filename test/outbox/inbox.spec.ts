/** inbox() handlers: (event id, handler) recorded in the handler's own transaction; a repeat changes nothing. */
import { Injectable } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { EventBus, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { Outbox, inbox } from '../../lib/outbox/index.js';
import { describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

describePg('outbox inbox handlers', () => {
  const suite = setUpPostgresSuite('inbox');
  const effects = () => `${suite.schema}.effects`;

  beforeAll(async () => {
    await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
    await suite.pool.query(`CREATE TABLE ${suite.schema}.effects (n serial PRIMARY KEY, event_id text NOT NULL, handler text NOT NULL)`);
  });

  function listeners(failuresBeforeSuccess = 0) {
    @Injectable()
    class StockListener {
      calls = 0;
      failuresLeft = failuresBeforeSuccess;
      @OnEvent('order.placed', inbox({ retry: { attempts: 3 } }))
      async reserve(_order: unknown, envelope: EventEnvelope, trx: PoolClient) {
        this.calls++;
        await trx.query(`INSERT INTO ${effects()} (event_id, handler) VALUES ($1, 'reserve')`, [envelope.id]);
        if (this.failuresLeft-- > 0) throw new Error('stock service hiccup');
      }

      @OnEvent('order.placed', inbox())
      async bill(_order: unknown, envelope: EventEnvelope, trx: PoolClient) {
        await trx.query(`INSERT INTO ${effects()} (event_id, handler) VALUES ($1, 'bill')`, [envelope.id]);
      }
    }
    return StockListener;
  }

  it('runs each inbox handler once per event id: the same event handled twice has one effect per handler', async () => {
    const Listener = listeners();
    const app = await suite.startApp([Listener], { relay: false });
    const bus = app.get(EventBus);
    const first = await bus.publishAndWait('order.placed', { orderId: 1 }, { id: 'evt-twice' });
    const again = await bus.publishAndWait('order.placed', { orderId: 1 }, { id: 'evt-twice' });
    expect([first.handled, again.handled]).toEqual([2, 2]);
    expect(app.get(Listener).calls).toBe(1); // the second delivery never reached the handler
    const rows = await suite.rows(`SELECT handler FROM ${effects()} WHERE event_id = 'evt-twice' ORDER BY handler`);
    expect(rows.map((r) => r.handler)).toEqual(['bill', 'reserve']);
    const recorded = await suite.rows(`SELECT handler FROM ${suite.schema}.event_bus_inbox WHERE event_id = 'evt-twice' ORDER BY handler`);
    expect(recorded.map((r) => r.handler)).toEqual(['StockListener.bill', 'StockListener.reserve']);
  });

  it('rolls the record back with the writes when the handler throws, so the retry runs it again (one effect in the end)', async () => {
    const Listener = listeners(2);
    const app = await suite.startApp([Listener], { relay: false });
    const report = await app.get(EventBus).publishAndWait('order.placed', { orderId: 2 }, { id: 'evt-retried' });
    expect(report.failed).toEqual([]);
    expect(app.get(Listener).calls).toBe(3);
    const rows = await suite.rows(`SELECT handler FROM ${effects()} WHERE event_id = 'evt-retried' AND handler = 'reserve'`);
    expect(rows).toHaveLength(1);
  });

  it('dedupes an outbox event relayed twice (a relay that lost its lease): one effect', async () => {
    const Listener = listeners();
    const app = await suite.startApp([Listener]);
    const receipt = await suite.inTransaction((client) => app.get(Outbox).publish(client, 'order.placed', { orderId: 3 }));
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${effects()} WHERE event_id = $1`, [receipt.id])).length === 2);
    // The row published again, as after a crash between the broker's ack and marking it published.
    await suite.pool.query(`UPDATE ${suite.schema}.event_bus_outbox SET status = 'pending', published_at = NULL WHERE event_id = $1`, [receipt.id]);
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_outbox WHERE event_id = $1 AND status = 'published'`, [receipt.id])).length === 1);
    expect(await suite.rows(`SELECT handler FROM ${effects()} WHERE event_id = $1`, [receipt.id])).toHaveLength(2);
  });

  it('leaves handlers without inbox() alone: called with (payload, envelope) and no transaction', async () => {
    const args: unknown[][] = [];
    @Injectable()
    class Plain {
      @OnEvent('order.placed')
      on(...received: unknown[]) {
        args.push(received);
      }
    }
    const app = await suite.startApp([Plain], { relay: false });
    const report = await app.get(EventBus).publishAndWait('order.placed', { orderId: 4 });
    expect(args).toEqual([[{ orderId: 4 }, report.envelope]]);
  });
});

describePg('outbox inbox handlers at shutdown', () => {
  const suite = setUpPostgresSuite('inboxclose');

  it('keeps the pool until the bus drained: inbox handlers still queued at app.close() get their transaction', async () => {
    await suite.pool.query(`CREATE SCHEMA IF NOT EXISTS ${suite.schema}`);
    await suite.pool.query(`CREATE TABLE ${suite.schema}.effects (event_id text NOT NULL)`);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    @Injectable()
    class SlowInbox {
      @OnEvent('order.slow', inbox({ concurrency: 1 }))
      async on(_p: unknown, envelope: EventEnvelope, trx: PoolClient) {
        started();
        await gate;
        await trx.query(`INSERT INTO ${suite.schema}.effects VALUES ($1)`, [envelope.id]);
      }
    }
    const app = await suite.startApp([SlowInbox], { relay: false });
    const bus = app.get(EventBus);
    const first = bus.publishAndWait('order.slow', 1, { id: 'slow-1' });
    const second = bus.publishAndWait('order.slow', 2, { id: 'slow-2' }); // waits for the handler's one slot
    await running;
    const closing = app.close();
    release();
    const reports = await Promise.all([first, second]);
    await closing;
    expect(reports.map((r) => [r.handled, r.failed.map((f) => String(f.error))])).toEqual([
      [1, []],
      [1, []],
    ]);
    const rows = await suite.rows(`SELECT event_id FROM ${suite.schema}.effects ORDER BY event_id`);
    expect(rows.map((r) => r.event_id)).toEqual(['slow-1', 'slow-2']);
  });
});
