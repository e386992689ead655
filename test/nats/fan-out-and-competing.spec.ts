import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { describeWithNats, Progress, transport } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

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
  const suite = setUpNatsSuite('fanout');
  const names = suite.names();

  it('gives every group every event, and splits a group\'s events between its instances, each handled once', async () => {
    const billing = new Progress();
    const shipping = new Progress();
    const Billing = listenerClass(billing);
    const Shipping = listenerClass(shipping);
    // Small pulls (concurrency 1 → batches of 2) so both billing instances keep asking for work.
    const billing1 = await suite.startApp(transport(names, 'billing', { concurrency: 1 }), [Billing]);
    const billing2 = await suite.startApp(transport(names, 'billing', { concurrency: 1 }), [Billing]);
    const shippingApp = await suite.startApp(transport(names, 'shipping'), [Shipping]);

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
