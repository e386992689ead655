import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { EventBus, type EventEnvelope } from '../../lib/index.js';
import { runDemo } from '../../sample-app/demo.js';
import { Mailer } from '../../sample-app/email/mailer.js';
import type { OrderReserved } from '../../sample-app/events/sample-events.js';
import { startNotifications } from '../../sample-app/notifications/main.js';
import { SmsGateway } from '../../sample-app/notifications/sms-gateway.js';
import type { Order } from '../../sample-app/orders/order.js';
import { sampleConfigFromEnv, type NatsConfig } from '../../sample-app/sample.config.js';
import { LogRecorder } from './log-recorder.js';
import { consumerBacklog, deleteSampleStreams, describeWithNats, rawConnection, storedSubjects, uniqueNatsConfig } from './nats-env.js';
import { startSampleApp, type RunningSampleApp } from './start-sample-app.js';

const describeNats = await describeWithNats();

/** Re-checks (every 20ms) until the group acknowledged everything in the stream; the test timeout bounds it. */
async function groupCaughtUp(nc: NatsConnection, nats: NatsConfig, group = nats.group): Promise<void> {
  for (;;) {
    const backlog = await consumerBacklog(nc, nats.stream, group);
    if (backlog.pending === 0 && backlog.unacknowledged === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeNats('sample order service over NATS JetStream (EVENT_TRANSPORT=nats)', () => {
  let nc: NatsConnection;
  const streams: string[] = [];
  const open: INestApplicationContext[] = [];

  const startOrders = async (nats: NatsConfig): Promise<RunningSampleApp> => {
    streams.push(nats.stream);
    const running = await startSampleApp({ transport: nats });
    open.push(running.app);
    return running;
  };

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterEach(async () => {
    for (const app of open.splice(0)) await app.close();
  });

  afterAll(async () => {
    for (const stream of streams) await deleteSampleStreams(nc, stream);
    await nc.close();
  });

  it('places an order over HTTP; its status moves to reserved through the NATS round trip', async () => {
    const nats = uniqueNatsConfig('http', 'orders-service');
    const { http, bus, app, logs } = await startOrders(nats);
    const reserved = bus.waitFor<OrderReserved>('order.reserved');

    const placed = await http.post('/orders').send({ item: 'Coffee', quantity: 3 }).expect(201);
    expect(placed.body).toEqual({ id: 1, status: 'placed' });
    const reservedEvent: EventEnvelope<OrderReserved> = await reserved;
    await bus.drain();

    expect(reservedEvent.payload).toEqual({ orderId: 1, item: 'Coffee', quantity: 3, remaining: 97 });
    const order: Order = (await http.get('/orders/1').expect(200)).body;
    expect(order.status).toBe('reserved');
    expect(order.history.map((change) => [change.status, change.eventId])).toEqual([
      ['placed', order.correlationId],
      ['reserved', reservedEvent.id],
    ]);
    expect(app.get(Mailer).sent.map((email) => email.subject)).toEqual(['Order #1 confirmed']);
    // Both events went through the server: stored in the stream, and acknowledged by the service's group.
    expect(await storedSubjects(nc, nats.stream)).toEqual([`${nats.stream}.order.placed`, `${nats.stream}.order.reserved`]);
    await groupCaughtUp(nc, nats);
    expect(logs.messages('error')).toEqual([]);
    expect(logs.messages('warn')).toEqual([]);
  });

  it('ships it: status shipped, and the audit trail keeps ids, causation and correlation across the wire', async () => {
    const nats = uniqueNatsConfig('ship', 'orders-service');
    const { http, bus, logs } = await startOrders(nats);
    const reserved = bus.waitFor('order.reserved');
    await http.post('/orders').send({ item: 'Tea', quantity: 1 }).expect(201);
    await reserved;
    await bus.drain();

    const shipped = bus.waitFor('order_shipped');
    const shipping = (await http.post('/orders/1/ship').expect(202)).body;
    expect((await shipped).id).toBe(shipping.eventId);
    await bus.drain();

    const order: Order = (await http.get('/orders/1').expect(200)).body;
    expect(order.status).toBe('shipped');
    const trail = (await http.get('/audit').query({ correlationId: order.correlationId }).expect(200)).body;
    expect(trail.map((entry: { name: string }) => entry.name)).toEqual(['order.placed', 'order.reserved', 'order_shipped']);
    const [placedEntry, reservedEntry, shippedEntry] = trail;
    expect(placedEntry).toMatchObject({ eventId: order.correlationId, causationId: null, payload: { orderId: 1, item: 'Tea', quantity: 1 } });
    expect(reservedEntry).toMatchObject({ correlationId: order.correlationId, causationId: placedEntry.eventId });
    expect(shippedEntry).toMatchObject({ eventId: shipping.eventId, correlationId: order.correlationId, causationId: null });
    expect(logs.messages('log')).toContain('Order #1 has been shipped.');
    await groupCaughtUp(nc, nats);
  });

  it('fans out: the notifications service (another group, same stream) handles the same order.placed', async () => {
    const nats = uniqueNatsConfig('fanout', 'orders-service');
    const orders = await startOrders(nats);
    const notificationLogs = new LogRecorder();
    const notifications = await startNotifications({ nats: { ...nats, group: 'notifications-service' }, logger: notificationLogs });
    open.push(notifications);
    const notificationsBus = notifications.get(EventBus);
    const smsEvent = notificationsBus.waitFor('order.placed');
    const reserved = orders.bus.waitFor('order.reserved');

    await orders.http.post('/orders').send({ item: 'Croissant', quantity: 2 }).expect(201);
    const [placedThere] = await Promise.all([smsEvent, reserved]);
    await Promise.all([notificationsBus.drain(), orders.bus.drain()]);

    const order: Order = (await orders.http.get('/orders/1').expect(200)).body;
    expect(order.status).toBe('reserved');
    // The very event the orders service published (its id is the order's correlation id).
    expect(placedThere.id).toBe(order.correlationId);
    expect(placedThere.payload).toEqual({ orderId: 1, item: 'Croissant', quantity: 2 });
    expect(notifications.get(SmsGateway).sent).toEqual([
      { to: '+15550100', text: 'Thanks! Your order #1 (2 x Croissant) is placed.' },
    ]);
    expect(notificationLogs.messages('log')).toContain(`Order #1 placed: sending SMS (event ${order.correlationId})`);
    expect(orders.app.get(Mailer).sent.map((email) => email.subject)).toEqual(['Order #1 confirmed']);
    // Each group went through the whole stream on its own.
    await groupCaughtUp(nc, nats, 'orders-service');
    await groupCaughtUp(nc, nats, 'notifications-service');
    expect(notificationLogs.messages('error')).toEqual([]);
  });

  it('the seed demo over NATS: prints its two lines once the events came back from the server, then closes', async () => {
    const nats = uniqueNatsConfig('demo', 'orders-service');
    streams.push(nats.stream);
    const logs = new LogRecorder();

    await runDemo(logs, { ...sampleConfigFromEnv({}), transport: nats });

    const printed = logs.lines.filter((line) => line.context === 'OrderListener').map((line) => line.message);
    expect(printed.sort()).toEqual(['Order #124 has been shipped.', 'Processing order #123 for Coffee']);
    expect(await storedSubjects(nc, nats.stream)).toEqual([`${nats.stream}.new_order`, `${nats.stream}.order_shipped`]);
    expect(logs.messages('error')).toEqual([]);
  });
});
