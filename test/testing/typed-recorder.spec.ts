/**
 * With an event map, the recorder's queries and waits are typed like EventPublisher<AppEvents>.
 * The `@ts-expect-error` lines are checked by `npm run typecheck`; the assertions at run time.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { EventBusModule, OnEvent, createOnEvent } from '../../lib/index.js';
import { createEventTestingModule, EventRecorder, type EventTestingModule } from '../../lib/testing/index.js';

interface NewOrder {
  order_id: number;
  item: string;
}
interface AppEvents {
  new_order: NewOrder;
  'order.shipped': { order_id: number; carrier: string };
}
const OnAppEvent = createOnEvent<AppEvents>();

class OrderPlaced {
  constructor(readonly total: number) {}
}

@Injectable()
class Shipping {
  @OnAppEvent('new_order')
  ship(order: NewOrder) {
    return order.item;
  }

  @OnEvent(OrderPlaced)
  placed() {}
}

describe('a typed recorder', () => {
  let t: EventTestingModule<AppEvents>;

  beforeEach(async () => {
    t = await createEventTestingModule<AppEvents>({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Shipping] });
  });
  afterEach(() => t.close());

  it('types payloads by event name, and by class for class events', async () => {
    t.publisher.publish('new_order', { order_id: 1, item: 'Coffee' });
    t.publisher.publish(new OrderPlaced(42));
    await t.recorder.settle();

    const items: string[] = t.recorder.payloads('new_order').map((order) => order.item);
    expect(items).toEqual(['Coffee']);
    const totals: number[] = t.recorder.payloads(OrderPlaced).map((event) => event.total);
    expect(totals).toEqual([42]);
    // @ts-expect-error: NewOrder has no `carrier`
    expect(t.recorder.last('new_order').payload.carrier).toBeUndefined();
  });

  it('types the where predicate and the awaited envelope', async () => {
    const shipped = t.recorder.waitFor('order.shipped', { where: (event) => event.carrier === 'DHL' });
    t.publisher.publish('order.shipped', { order_id: 1, carrier: 'UPS' });
    t.publisher.publish('order.shipped', { order_id: 2, carrier: 'DHL' });
    const envelope = await shipped;
    const orderId: number = envelope.payload.order_id;
    expect(orderId).toBe(2);
  });

  it('a recorder attached by hand can be typed too', () => {
    const recorder = EventRecorder.attach<AppEvents>(t.app);
    const payloads: NewOrder[] = recorder.payloads('new_order');
    expect(payloads).toEqual([]);
    recorder.detach();
  });
});
