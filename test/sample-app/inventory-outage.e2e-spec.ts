import 'reflect-metadata';
import type { HandlerFailure } from '../../lib/index.js';
import { Mailer } from '../../sample-app/email/mailer.js';
import type { Order } from '../../sample-app/orders/order.js';
import { startSampleApp, type RunningSampleApp } from './start-sample-app.js';

describe('sample order service: inventory outage', () => {
  let running: RunningSampleApp;

  beforeEach(async () => {
    // Three tries with real (short) exponential backoff: 1 ms, then 2 ms.
    running = await startSampleApp({ retry: { attempts: 3, initialDelayMs: 1, maxDelayMs: 10 } });
  });

  afterEach(async () => {
    await running.app.close();
  });

  it('leaves the order placed, retries with backoff, then dead-letters the event; other listeners are unaffected', async () => {
    const { http, bus, logs, app } = running;
    const failures: HandlerFailure[] = [];
    const subscription = bus.errors$.subscribe((failure) => failures.push(failure));
    expect((await http.post('/admin/inventory/outage').send({ on: true }).expect(200)).body).toEqual({ outage: true });

    const { id } = (await http.post('/orders').send({ item: 'Coffee', quantity: 1 }).expect(201)).body;
    await bus.drain();
    subscription.unsubscribe();

    const order: Order = (await http.get(`/orders/${id}`).expect(200)).body;
    expect(order.status).toBe('placed');
    expect(order.history).toHaveLength(1);

    expect(failures.map(({ handler, attempt, final }) => ({ handler, attempt, final }))).toEqual([
      { handler: 'InventoryListener.reserveStock', attempt: 1, final: false },
      { handler: 'InventoryListener.reserveStock', attempt: 2, final: false },
      { handler: 'InventoryListener.reserveStock', attempt: 3, final: true },
    ]);
    const warnings = logs.messages('warn').filter((message) => message.startsWith('InventoryListener.reserveStock failed'));
    expect(warnings).toEqual([
      expect.stringContaining('attempt 1/3; retrying in 1ms: Warehouse unavailable'),
      expect.stringContaining('attempt 2/3; retrying in 2ms: Warehouse unavailable'),
    ]);
    expect(logs.messages('error')).toContainEqual(expect.stringContaining('attempt 3/3; dead-lettered: Warehouse unavailable'));

    const deadLetters = (await http.get('/events/dead-letters').expect(200)).body;
    expect(deadLetters).toEqual([
      {
        eventId: order.correlationId,
        event: 'order.placed',
        handler: 'InventoryListener.reserveStock',
        attempts: 3,
        error: expect.stringMatching(/^WarehouseUnavailableError: Warehouse unavailable/),
        correlationId: order.correlationId,
        payload: { orderId: id, item: 'Coffee', quantity: 1 },
        failedAt: expect.any(String),
      },
    ]);
    // The confirmation email and the audit did not depend on the inventory.
    expect(app.get(Mailer).sent.map((email) => email.subject)).toEqual([`Order #${id} confirmed`]);
    expect((await http.get('/audit').expect(200)).body.map((entry: { name: string }) => entry.name)).toEqual(['order.placed']);
    expect((await http.get('/admin/inventory').expect(200)).body.stock.Coffee).toBe(100);
  });

  it('reserves again once the outage is over', async () => {
    const { http, bus } = running;
    await http.post('/admin/inventory/outage').send({ on: true }).expect(200);
    const first = (await http.post('/orders').send({ item: 'Tea', quantity: 1 }).expect(201)).body.id;
    await bus.drain();
    await http.post('/admin/inventory/outage').send({ on: false }).expect(200);
    const second = (await http.post('/orders').send({ item: 'Tea', quantity: 1 }).expect(201)).body.id;
    await bus.drain();

    expect((await http.get(`/orders/${first}`).expect(200)).body.status).toBe('placed');
    expect((await http.get(`/orders/${second}`).expect(200)).body.status).toBe('reserved');
    expect((await http.get('/events/dead-letters').expect(200)).body).toHaveLength(1);
  });
});
