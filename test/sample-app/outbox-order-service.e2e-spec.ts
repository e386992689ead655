/**
 * The sample with DATABASE_URL: orders are written to PostgreSQL, their OrderPlaced event into the
 * outbox in the same transaction; the relay publishes it after commit, and never for an order whose
 * INSERT failed.
 */
import pg from 'pg';
import type { Order } from '../../sample-app/orders/order.js';
import { DATABASE_URL, describeWithPostgres, eventually, uniqueSchema } from '../outbox/support/pg-test-env.js';
import { startSampleApp, type RunningSampleApp } from './start-sample-app.js';

const describePg = await describeWithPostgres();

describePg('sample order service with DATABASE_URL (orders in PostgreSQL through the outbox)', () => {
  const schema = uniqueSchema('sample');
  let pool: pg.Pool;
  let running: RunningSampleApp | undefined;

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  });
  afterEach(async () => {
    await running?.app.close();
    running = undefined;
  });
  afterAll(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  const getOrder = async (id: number): Promise<Order> => (await running!.http.get(`/orders/${id}`).expect(200)).body as Order;

  it('writes the order and its event in one transaction; the relay publishes the event, the order gets reserved', async () => {
    running = await startSampleApp({ database: { url: DATABASE_URL, schema } });
    const response = await running.http.post('/orders').send({ item: 'Coffee', quantity: 2 }).expect(201);
    expect(response.body).toEqual({ id: 1, status: 'placed' });
    await eventually(async () => (await getOrder(1)).status === 'reserved');

    const order = await getOrder(1);
    const rows = await pool.query(`SELECT id, item, quantity FROM ${schema}.orders`);
    expect(rows.rows).toEqual([{ id: 1, item: 'Coffee', quantity: 2 }]);
    const outbox = await pool.query(`SELECT event_id, name, payload, ordering_key, status FROM ${schema}.event_bus_outbox`);
    expect(outbox.rows).toEqual([
      { event_id: order.history[0].eventId, name: 'order.placed', payload: { orderId: 1, item: 'Coffee', quantity: 2 }, ordering_key: 'order-1', status: 'published' },
    ]);
    expect(order.history.map((h) => h.status)).toEqual(['placed', 'reserved']);
  });

  it('announces nothing when the order cannot be written, and continues its ids after a restart', async () => {
    running = await startSampleApp({ database: { url: DATABASE_URL, schema } });
    // The previous test's order 1 is in the table: ids continue at 2. Take 2 behind the service's back.
    await pool.query(`INSERT INTO ${schema}.orders (id, item, quantity) VALUES (2, 'Tea', 1)`);
    await running.http.post('/orders').send({ item: 'Croissant', quantity: 1 }).expect(500);
    await running.http.get('/orders/2').expect(404);
    const marker = await running.http.post('/orders').send({ item: 'Tea', quantity: 1 }).expect(201);
    expect(marker.body.id).toBe(3);
    await eventually(async () => (await getOrder(3)).status === 'reserved');
    const names = await pool.query(`SELECT payload->>'orderId' AS id FROM ${schema}.event_bus_outbox ORDER BY seq`);
    expect(names.rows.map((r) => r.id)).toEqual(['1', '3']);
    expect((await running.http.get('/admin/inventory').expect(200)).body.stock.Croissant).toBe(12);
  });
});
