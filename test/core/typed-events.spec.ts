/**
 * Compile-time tests: `npm test` type-checks this file first (`npm run typecheck`). Each
 * `@ts-expect-error` line must be an error; if the typing regresses and it compiles, tsc fails
 * with "Unused '@ts-expect-error' directive".
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { createOnEvent, EventPublisher, OnEventClass, type EventEnvelope } from '../../lib/index.js';
import { createApp } from '../support/create-app.js';

interface NewOrder {
  order_id: number;
  item: string;
}

interface AppEvents {
  new_order: NewOrder;
  order_shipped: { order_id: number };
  heartbeat: undefined;
}

const OnAppEvent = createOnEvent<AppEvents>();

class OrderPlaced {
  constructor(readonly orderId: number) {}
}

@Injectable()
class TypedListener {
  received: NewOrder[] = [];

  @OnAppEvent('new_order')
  handle(order: NewOrder, envelope: EventEnvelope<NewOrder>) {
    this.received.push({ ...order, item: `${order.item}@${String(envelope.name)}` });
  }

  @OnAppEvent(['new_order', 'order_shipped'])
  either(order: { order_id: number }) {
    return order.order_id;
  }

  // @ts-expect-error the handler's first parameter does not accept NewOrder
  @OnAppEvent('new_order')
  wrongPayload(order: { sku: string }) {
    return order.sku;
  }

  // @ts-expect-error an unknown event name
  @OnAppEvent('no_such_event')
  unknownName() {}

  @OnEventClass(OrderPlaced)
  placed(event: OrderPlaced) {
    return event.orderId;
  }

  // @ts-expect-error a class handler must accept instances of that class
  @OnEventClass(OrderPlaced)
  placedWrong(event: { sku: string }) {
    return event.sku;
  }
}

function compileTimeChecks(events: EventPublisher<AppEvents>, untyped: EventPublisher) {
  events.publish('new_order', { order_id: 1, item: 'Coffee' });
  events.publish('heartbeat');
  events.publish(new OrderPlaced(1));
  void events.publishAndWait('order_shipped', { order_id: 2 });

  // @ts-expect-error unknown event name
  events.publish('new_ordr', { order_id: 1, item: 'Coffee' });
  // @ts-expect-error wrong payload
  events.publish('new_order', { order_id: '1', item: 'Coffee' });
  // @ts-expect-error missing payload where one is required
  events.publish('new_order');
  // @ts-expect-error wrong payload for publishAndWait
  void events.publishAndWait('order_shipped', { orderId: 2 });

  // Untyped use stays available.
  untyped.publish('anything', { at: 'all' });
  untyped.publish('no.payload');
  untyped.publish(Symbol('s'), 1);
}

describe('typed events', () => {
  it('typed handlers and publishers work at run time too', async () => {
    const app = await createApp({ providers: [TypedListener] });
    try {
      const events = app.get(EventPublisher) as EventPublisher<AppEvents>;
      const report = await events.publishAndWait('new_order', { order_id: 5, item: 'Tea' });
      // wrongPayload is a compile error above, but still a registered handler at run time.
      expect(report.handled).toBe(3);
      expect(app.get(TypedListener).received).toEqual([{ order_id: 5, item: 'Tea@new_order' }]);
      expect(typeof compileTimeChecks).toBe('function');
    } finally {
      await app.close();
    }
  });
});
