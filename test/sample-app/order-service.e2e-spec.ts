import 'reflect-metadata';
import type { EventEnvelope } from '../../lib/index.js';
import { Mailer } from '../../sample-app/email/mailer.js';
import { OrderPlaced } from '../../sample-app/events/order-placed.event.js';
import type { OrderReserved } from '../../sample-app/events/sample-events.js';
import type { Order } from '../../sample-app/orders/order.js';
import { startSampleApp, type RunningSampleApp } from './start-sample-app.js';

describe('sample order service (HTTP, end to end)', () => {
  let running: RunningSampleApp;
  /** Lets a gated listener finish; called after each test too, so a failing test cannot hang the others. */
  let release: () => void = () => undefined;

  beforeEach(async () => {
    running = await startSampleApp();
  });

  afterEach(async () => {
    release();
    await running.app.close();
  });

  const placeOrder = async (item: string, quantity: number): Promise<number> => {
    const response = await running.http.post('/orders').send({ item, quantity }).expect(201);
    return response.body.id as number;
  };
  const getOrder = async (id: number): Promise<Order> => (await running.http.get(`/orders/${id}`).expect(200)).body as Order;

  it('answers 201 {id, status: placed} before slow listeners finish', async () => {
    const { http, bus, app } = running;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let slowListenerFinished = false;
    // A listener that cannot finish until the test lets it: if POST /orders waited for listeners, it would hang.
    bus.on(OrderPlaced, async function slowListener() {
      await gate;
      slowListenerFinished = true;
    });

    const response = await http.post('/orders').send({ item: 'Coffee', quantity: 2 }).expect(201);

    expect(response.body).toEqual({ id: 1, status: 'placed' });
    expect(slowListenerFinished).toBe(false);
    release();
    await bus.drain();
    expect(slowListenerFinished).toBe(true);
    expect(app.get(Mailer).sent.map((email) => email.subject)).toEqual(['Order #1 confirmed']);
    expect(running.logs.messages('log')).toContain('Send confirmation for order #1');
  });

  it('moves the status from placed to reserved as the events are handled, each change stamped with its event', async () => {
    const reserved = running.bus.waitFor<OrderReserved>('order.reserved');
    const id = await placeOrder('Coffee', 3);

    const reservedEvent: EventEnvelope<OrderReserved> = await reserved;
    expect(reservedEvent.payload).toEqual({ orderId: id, item: 'Coffee', quantity: 3, remaining: 97 });
    await running.bus.drain();

    const order = await getOrder(id);
    expect(order.status).toBe('reserved');
    expect(order.history.map((change) => change.status)).toEqual(['placed', 'reserved']);
    expect(order.history[0].eventId).toBe(order.correlationId);
    expect(order.history[1].eventId).toBe(reservedEvent.id);
    expect((await running.http.get('/admin/inventory').expect(200)).body.stock.Coffee).toBe(97);
  });

  it('marks an order reservation-failed, with the reason, when the stock is short', async () => {
    const id = await placeOrder('Croissant', 13);
    await running.bus.drain();

    const order = await getOrder(id);
    expect(order.status).toBe('reservation-failed');
    expect(order.reason).toBe('Only 12 Croissant in stock, 13 ordered.');
    expect((await running.http.get('/events/dead-letters').expect(200)).body).toEqual([]);
  });

  it('ships a reserved order: 202, then status shipped and "Order #N has been shipped." in the log', async () => {
    const id = await placeOrder('Tea', 1);
    await running.bus.drain();

    const response = await running.http.post(`/orders/${id}/ship`).expect(202);
    expect(response.body).toEqual({ id, eventId: expect.any(String) });
    // Asked twice before the first request is handled: shipped once.
    const again = await running.http.post(`/orders/${id}/ship`).expect(409);
    expect(again.body.message).toBe(`Order #${id}: shipping was already requested (event ${response.body.eventId}).`);
    await running.bus.drain();

    const order = await getOrder(id);
    expect(order.status).toBe('shipped');
    expect(order.history.map((change) => change.status)).toEqual(['placed', 'reserved', 'shipped']);
    expect(order.history[2].eventId).toBe(response.body.eventId);
    expect(order.shipmentEventId).toBe(response.body.eventId);
    expect(running.logs.messages('log').filter((line) => line === `Order #${id} has been shipped.`)).toHaveLength(1);
  });

  it('refuses to ship an order that is not reserved (409) or does not exist (404)', async () => {
    const id = await placeOrder('Croissant', 100);
    await running.bus.drain();

    const conflict = await running.http.post(`/orders/${id}/ship`).expect(409);
    expect(conflict.body.message).toBe(`Order #${id} is reservation-failed: only a reserved order can be shipped.`);
    const missing = await running.http.post('/orders/999/ship').expect(404);
    expect(missing.body.message).toBe('Order #999 not found.');
  });

  it('keeps an audit trail of the order.** events and order_shipped, with ids, causation and correlation', async () => {
    const id = await placeOrder('Coffee', 1);
    await running.bus.drain();
    await running.http.post(`/orders/${id}/ship`).expect(202);
    await running.bus.drain();
    const { correlationId } = await getOrder(id);

    const trail = (await running.http.get('/audit').query({ correlationId }).expect(200)).body;

    expect(trail.map((entry: { name: string }) => entry.name)).toEqual(['order.placed', 'order.reserved', 'order_shipped']);
    const [placed, reserved, shipped] = trail;
    expect(placed).toMatchObject({ eventId: correlationId, correlationId, causationId: null, payload: { orderId: id } });
    // Published by InventoryListener while it handled order.placed: caused by it, same correlation.
    expect(reserved).toMatchObject({ correlationId, causationId: placed.eventId, payload: { orderId: id } });
    // Published by an HTTP request with the order's correlation id: no causing event.
    expect(shipped).toMatchObject({ correlationId, causationId: null, payload: { order_id: id } });
    expect(new Set(trail.map((entry: { eventId: string }) => entry.eventId)).size).toBe(3);
    expect((await running.http.get('/audit').expect(200)).body).toHaveLength(3);
  });

  it.each([
    ['a missing quantity', { item: 'Coffee' }, 'quantity must be a positive number'],
    ['a zero quantity', { item: 'Coffee', quantity: 0 }, 'quantity must be a positive number'],
    ['a negative quantity', { item: 'Coffee', quantity: -2 }, 'quantity must be a positive number'],
    ['a fractional quantity', { item: 'Coffee', quantity: 1.5 }, 'quantity must be an integer number'],
    ['a quantity given as text', { item: 'Coffee', quantity: 'two' }, 'quantity must be an integer number'],
    ['a missing item', { quantity: 1 }, 'item should not be empty'],
    ['an unknown field', { item: 'Coffee', quantity: 1, price: 3 }, 'property price should not exist'],
  ])('answers 400 to %s, and places nothing', async (_case, body, message) => {
    const response = await running.http.post('/orders').send(body).expect(400);

    expect(response.body.message).toContain(message);
    expect((await running.http.get('/orders').expect(200)).body).toEqual([]);
    await running.bus.drain();
    expect((await running.http.get('/audit').expect(200)).body).toEqual([]);
  });

  it('answers 400 to malformed JSON and to a non-numeric order id, 404 to an unknown one', async () => {
    await running.http.post('/orders').set('content-type', 'application/json').send('{"item": "Coffee",').expect(400);
    const notANumber = await running.http.get('/orders/abc').expect(400);
    expect(notANumber.body.message).toBe('Validation failed (numeric string is expected)');
    const unknown = await running.http.get('/orders/42').expect(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Order #42 not found.' });
    const badOutage = await running.http.post('/admin/inventory/outage').send({ on: 'yes' }).expect(400);
    expect(badOutage.body.message).toContain('on must be a boolean value');
  });

  it('shows the handler topology from EventBus.handlers(), and logs each mapping at start-up', async () => {
    const topology = (await running.http.get('/events/handlers').expect(200)).body;

    expect(topology).toEqual(
      expect.arrayContaining([
        { event: 'new_order', handler: 'OrderListener.handleNewOrder', options: {} },
        { event: 'order_shipped', handler: 'OrderListener.handleOrderShipped', options: {} },
        { event: 'OrderPlaced', handler: 'InventoryListener.reserveStock', options: {} },
        { event: 'order.placed', handler: 'EmailListener.sendConfirmation', options: { concurrency: 5 } },
        { event: 'order.**', handler: 'AuditListener.record', options: {} },
        { event: 'order_shipped', handler: 'AuditListener.record', options: {} },
        { event: 'order.reserved', handler: 'OrderStatusListener.onReserved', options: {} },
        { event: 'order.reservation-failed', handler: 'OrderStatusListener.onReservationFailed', options: {} },
        { event: 'order_shipped', handler: 'OrderStatusListener.onShipped', options: {} },
      ]),
    );
    expect(topology).toHaveLength(9);
    const mapped = running.logs.lines.filter((line) => line.context === 'EventBus' && line.message.startsWith('Mapped '));
    expect(mapped.map((line) => line.message)).toEqual(
      topology.map((entry: { event: string; handler: string }) => `Mapped {${entry.event}} -> ${entry.handler}`),
    );
  });
});
