import 'reflect-metadata';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { firstValueFrom } from 'rxjs';
import { Mailer } from '../../sample-app/email/mailer.js';
import { DeadLetterStore } from '../../sample-app/event-monitor/dead-letter.store.js';
import { OrderPlaced } from '../../sample-app/events/order-placed.event.js';
import { Warehouse } from '../../sample-app/inventory/warehouse.js';
import { OrderStore } from '../../sample-app/orders/order.store.js';
import { refusesPublish } from './refuses-publish.js';
import { startSampleApp } from './start-sample-app.js';

describe('sample order service: shutdown', () => {
  /** Lets the gated listener finish; also called after the test, so a failure cannot leave the app open. */
  let release: () => void = () => undefined;
  let closing: Promise<unknown> | undefined;
  let closeApp: () => Promise<unknown> = async () => undefined;

  beforeEach(() => {
    closing = undefined;
  });

  afterEach(async () => {
    release();
    await (closing ?? closeApp());
  });

  it('closes cleanly with events in flight: refuses new orders with 503, finishes the accepted ones first', async () => {
    // Real (short) mail latency, so confirmations are genuinely in flight when the service closes.
    const { app, http, bus, logs } = await startSampleApp({ emailLatencyMs: 5 });
    closeApp = () => app.close();
    const mailer = app.get(Mailer);
    const orders = app.get(OrderStore);
    const deadLetters = app.get(DeadLetterStore);
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slowRunsFinished = 0;
    // Holds shutdown open until the test has looked at it.
    bus.on(OrderPlaced, async function slowListener() {
      await gate;
      slowRunsFinished++;
    });
    for (const item of ['Coffee', 'Tea', 'Croissant']) await http.post('/orders').send({ item, quantity: 1 }).expect(201);

    let closed = false;
    closing = app.close().then(() => (closed = true));
    for (let turn = 0; turn < 1000 && !refusesPublish(bus); turn++) await nextTurn();
    expect(refusesPublish(bus)).toBe(true);

    // The HTTP server still answers while the bus drains: a new order is refused, not failed.
    const refused = await http.post('/orders').send({ item: 'Coffee', quantity: 1 }).expect(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.message).toMatch(/^Cannot publish "order.placed": the event bus is shutting down/);
    expect(closed).toBe(false);
    expect(slowRunsFinished).toBe(0);

    release();
    await closing;

    expect(slowRunsFinished).toBe(3);
    expect(mailer.sent.map((email) => email.subject)).toEqual(['Order #1 confirmed', 'Order #2 confirmed', 'Order #3 confirmed']);
    expect(orders.all().map((order) => [order.id, order.status])).toEqual([
      [1, 'reserved'],
      [2, 'reserved'],
      [3, 'reserved'],
    ]);
    expect(deadLetters.list()).toEqual([]);
    expect(logs.messages('error')).toEqual([]);
  });

  it('lets a handler that is retrying when the app closes finish its work, follow-up events included', async () => {
    // Retries every millisecond, far more times than needed: the outage ends while the app is closing.
    const { app, http, bus } = await startSampleApp({
      retry: { attempts: 100_000, initialDelayMs: 1, maxDelayMs: 1 },
      shutdownTimeoutMs: 20_000,
    });
    closeApp = () => app.close();
    const orders = app.get(OrderStore);
    await http.post('/admin/inventory/outage').send({ on: true }).expect(200);
    const firstFailure = firstValueFrom(bus.errors$);
    await http.post('/orders').send({ item: 'Croissant', quantity: 2 }).expect(201);
    expect((await firstFailure).handler).toBe('InventoryListener.reserveStock');

    closing = app.close();
    for (let turn = 0; turn < 1000 && !refusesPublish(bus); turn++) await nextTurn();
    expect(refusesPublish(bus)).toBe(true);
    await http.post('/admin/inventory/outage').send({ on: false }).expect(200);
    await closing;

    // The retry that succeeded published order.reserved during shutdown, and it was delivered.
    expect(orders.find(1)?.status).toBe('reserved');
    expect(app.get(Warehouse).status().stock.Croissant).toBe(10);
    expect(app.get(DeadLetterStore).list()).toEqual([]);
  });
});
