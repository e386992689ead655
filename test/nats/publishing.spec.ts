import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Event, EventPublisher, InvalidEventError, OnEvent, type EventEnvelope } from '../../lib/index.js';
import {
  consumerIsIdle,
  describeWithNats,
  eventually,
  Progress,
  startApp,
  storedMessages,
  streamMessageCount,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

@Event('order.placed')
class OrderPlaced {
  constructor(
    readonly orderId: number,
    readonly lines: { sku: string; qty: number }[],
  ) {}
  get totalQty(): number {
    return this.lines.reduce((sum, l) => sum + l.qty, 0);
  }
}

@Injectable()
class OrderListener {
  readonly received: { payload: unknown; envelope: EventEnvelope }[] = [];
  readonly progress = new Progress();
  constructor(private readonly events: EventPublisher) {}

  @OnEvent(OrderPlaced)
  onPlaced(order: OrderPlaced, envelope: EventEnvelope) {
    this.received.push({ payload: order, envelope });
    // Published while handling: must carry causation and correlation across the wire.
    this.events.publish('order.acknowledged', { orderId: order.orderId });
    this.progress.add();
  }

  @OnEvent('order.acknowledged')
  onAcknowledged(payload: unknown, envelope: EventEnvelope) {
    this.received.push({ payload, envelope });
    this.progress.add();
  }

  @OnEvent('misc.**')
  onMisc(payload: unknown, envelope: EventEnvelope) {
    this.received.push({ payload, envelope });
    this.progress.add();
  }
}

@Injectable()
class EarlyPublisher implements OnModuleInit {
  published: string | undefined;
  constructor(private readonly events: EventPublisher) {}
  onModuleInit() {
    // Before the application finished start-up: the consumer does not exist yet.
    this.published = this.events.publish('misc.early', { early: true }).id;
  }
}

describeNats('NATS JetStream transport: publishing', () => {
  const suite = setUpNatsSuite('pub');

  it('publish() returns at once; handlers run only when the event comes back from JetStream', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), [OrderListener]);
    const envelope = app.get(EventPublisher).publish('misc.thing', { a: 1 }, { correlationId: 'corr-1', headers: { tenant: 'acme', 'x-trace': 'abc def' } });
    expect(app.get(OrderListener).received).toHaveLength(0);

    await app.get(OrderListener).progress.reach(1);
    const [{ payload, envelope: received }] = app.get(OrderListener).received;
    expect(payload).toEqual({ a: 1 });
    expect(received).toMatchObject({
      id: envelope.id,
      name: 'misc.thing',
      correlationId: 'corr-1',
      headers: { tenant: 'acme', 'x-trace': 'abc def' },
      attempt: 1,
    });
    expect(received.occurredAt.getTime()).toBe(envelope.occurredAt.getTime());
  });

  it('revives class events and carries causation and correlation of events published by handlers', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), [OrderListener]);
    const placed = app.get(EventPublisher).publish(new OrderPlaced(7, [{ sku: 'tea', qty: 2 }, { sku: 'mug', qty: 1 }]));

    await app.get(OrderListener).progress.reach(2);
    const [first, second] = app.get(OrderListener).received;
    expect(first.payload).toBeInstanceOf(OrderPlaced);
    expect((first.payload as OrderPlaced).totalQty).toBe(3);
    expect(second.envelope.name).toBe('order.acknowledged');
    expect(second.envelope.causationId).toBe(placed.id);
    expect(second.envelope.correlationId).toBe(placed.id);
  });

  it('publishAndWait() resolves once the server stored the event', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), []);
    const report = await app.get(EventPublisher).publishAndWait('misc.stored', { b: 2 });
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(1);
    const [stored] = await storedMessages(suite.nc, n.stream);
    expect(stored.header.get('Nats-Msg-Id')).toBe(report.envelope.id);
    expect(stored.subject).toBe(`${n.subjectPrefix}.misc.stored`);
    expect(stored.json()).toEqual({ b: 2 });
  });

  it('app.close() waits until every published event is acknowledged by the server', async () => {
    const n = suite.names();
    const app = await startApp(transport(n, 'orders', { maxPendingPublishes: 16 }), []);
    const count = 500;
    for (let i = 0; i < count; i++) app.get(EventPublisher).publish('misc.burst', { i });
    await app.close();
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(count);
  });

  it('drops a duplicate id within the duplicate window: handled once', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), [OrderListener]);
    const events = app.get(EventPublisher);
    await events.publishAndWait('misc.once', { n: 1 }, { id: 'order-7-paid' });
    await events.publishAndWait('misc.once', { n: 2 }, { id: 'order-7-paid' });
    await app.get(OrderListener).progress.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'orders'));
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(1);
    expect(app.get(OrderListener).received.map((r) => r.payload)).toEqual([{ n: 1 }]);
  });

  it('refuses at publish() what cannot travel, with InvalidEventError', async () => {
    const n = suite.names();
    const app = await startApp(transport(n, 'orders', { maxPayloadBytes: 256 }), []); // closed by the test itself
    const events = app.get(EventPublisher);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => events.publish('misc.bad', { amount: 10n })).toThrow(InvalidEventError);
    expect(() => events.publish('misc.bad', circular)).toThrow(/cannot be serialized to JSON/);
    expect(() => events.publish('misc.bad', () => 1)).toThrow(InvalidEventError);
    expect(() => events.publish(Symbol('local'), {})).toThrow(/symbol event names cannot leave the process/);
    expect(() => events.publish('misc.big', { blob: 'x'.repeat(300) })).toThrow(/over the 256-byte limit/);
    await expect(events.publishAndWait('misc.bad', { amount: 10n })).rejects.toThrow(InvalidEventError);
    await app.close();
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(0);
  });

  it('delivers an event published during start-up (in onModuleInit), once the consumer runs', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), [OrderListener, EarlyPublisher]);
    await app.get(OrderListener).progress.reach(1);
    expect(app.get(OrderListener).received.map((r) => r.envelope.id)).toEqual([app.get(EarlyPublisher).published]);
  });
});
