import { Injectable, type INestApplication } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { deleteStreams, describeWithNats, Progress, rawConnection, startApp, transport, uniqueNames } from './support/nats-test-env.js';

const describeNats = await describeWithNats();

/** One handler per process; each app gets its own instance, so `seen` is per process. */
function listenerClass(progress: Progress) {
  @Injectable()
  class OrderListener {
    readonly seen: string[] = [];
    @OnEvent('order.placed')
    async onPlaced(_payload: unknown, envelope: EventEnvelope) {
      // Yield once so a process does not finish its whole batch before the other one asks for work.
      await new Promise((resolve) => setImmediate(resolve));
      this.seen.push(envelope.id);
      progress.add();
    }
  }
  return OrderListener;
}

describeNats('NATS JetStream transport: fan-out and competing consumers', () => {
  const names = uniqueNames('fanout');
  let nc: NatsConnection;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await deleteStreams(nc, names.stream, names.deadLetterStream);
    await nc.close();
  });

  it('gives every group every event, and splits a group\'s events between its instances, each handled once', async () => {
    const billing = new Progress();
    const shipping = new Progress();
    const Billing = listenerClass(billing);
    const Shipping = listenerClass(shipping);
    // Small pulls (concurrency 1 → batches of 2) so both billing instances keep asking for work.
    const billing1 = await startApp(transport(names, 'billing', { concurrency: 1 }), [Billing]);
    const billing2 = await startApp(transport(names, 'billing', { concurrency: 1 }), [Billing]);
    const shippingApp = await startApp(transport(names, 'shipping'), [Shipping]);
    apps.push(billing1, billing2, shippingApp);

    const publisher = billing1.get(EventPublisher);
    const count = 60;
    const ids = new Set<string>();
    for (let i = 0; i < count; i++) ids.add(publisher.publish('order.placed', { n: i }).id);

    await Promise.all([billing.reach(count), shipping.reach(count)]);

    const seen1 = billing1.get(Billing).seen;
    const seen2 = billing2.get(Billing).seen;
    const billed = [...seen1, ...seen2];
    expect(billed).toHaveLength(count);
    expect(new Set(billed)).toEqual(ids);
    expect(seen1.length).toBeGreaterThan(0);
    expect(seen2.length).toBeGreaterThan(0);
    const shipped = shippingApp.get(Shipping).seen;
    expect(shipped).toHaveLength(count);
    expect(new Set(shipped)).toEqual(ids);
  });
});
