import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Event, EventBusModule, EventPublisher, InvalidEventError, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { createEventTestingModule, EventNotPublishedError, EventRecorder, type EventTestingModule } from '../../lib/testing/index.js';

@Event('order.placed')
class OrderPlaced {
  constructor(readonly orderId: number) {}
}

class RushOrderPlaced extends OrderPlaced {}

/** Reacts to an order by publishing follow-up events, so recordings have causation chains. */
@Injectable()
class OrderFlow {
  constructor(private readonly events: EventPublisher) {}

  @OnEvent('new_order')
  accept(order: { order_id: number }) {
    this.events.publish('order.accepted', { order_id: order.order_id });
  }

  @OnEvent('order.accepted')
  ship(order: { order_id: number }) {
    this.events.publish('order.shipped', { order_id: order.order_id });
  }
}

describe('EventRecorder: recording and queries', () => {
  let t: EventTestingModule;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [OrderFlow] });
  });
  afterEach(() => t.close());

  it('records every event in dispatch order, follow-ups included, with payloads and envelopes', async () => {
    const published = t.publisher.publish('new_order', { order_id: 7 });
    await t.recorder.settle();

    expect(t.recorder.names()).toEqual(['new_order', 'order.accepted', 'order.shipped']);
    expect(t.recorder.payloads()).toEqual([{ order_id: 7 }, { order_id: 7 }, { order_id: 7 }]);
    const [first, accepted, shipped] = t.recorder.published();
    expect(first).toBe(published);
    expect(accepted.causationId).toBe(first.id);
    expect(shipped.causationId).toBe(accepted.id);
    expect(shipped.correlationId).toBe(first.id);
  });

  it('queries by name, pattern and class; last() is the most recent match', async () => {
    t.publisher.publish('new_order', { order_id: 1 });
    t.publisher.publish('new_order', { order_id: 2 });
    t.publisher.publish(new OrderPlaced(3));
    t.publisher.publish(new RushOrderPlaced(4));
    await t.recorder.settle();

    expect(t.recorder.payloads('new_order')).toEqual([{ order_id: 1 }, { order_id: 2 }]);
    // accepted + shipped per new_order, plus one order.placed: @Event names are not inherited, so the
    // subclass travels as "RushOrderPlaced", yet a class selector still matches it.
    expect(t.recorder.count('order.*')).toBe(2 * 2 + 1);
    expect(t.recorder.payloads(OrderPlaced).map((p) => p.orderId)).toEqual([3, 4]);
    expect(t.recorder.payloads(RushOrderPlaced).map((p) => p.orderId)).toEqual([4]);
    expect(t.recorder.last('new_order').payload).toEqual({ order_id: 2 });
    expect(t.recorder.last()).toMatchObject({ name: 'order.shipped', payload: { order_id: 2 } });
  });

  it('last() without a match throws, listing what was published instead', async () => {
    t.publisher.publish('new_order', { order_id: 1 });
    await t.recorder.settle();

    const error = captureSync(() => t.recorder.last('order.cancelled'));
    expect(error).toBeInstanceOf(EventNotPublishedError);
    expect(error.message).toBe(
      'No "order.cancelled" event was published.\n' +
        'Published (3 events, in order):\n' +
        '  1. new_order { order_id: 1 }\n' +
        '  2. order.accepted { order_id: 1 }\n' +
        '  3. order.shipped { order_id: 1 }',
    );
  });

  it('clear() starts a new phase: earlier events are forgotten', async () => {
    t.publisher.publish('new_order', { order_id: 1 });
    await t.recorder.settle();
    t.recorder.clear();
    expect(t.recorder.published()).toEqual([]);

    t.publisher.publish('order.accepted', { order_id: 2 });
    await t.recorder.settle();
    expect(t.recorder.names()).toEqual(['order.accepted', 'order.shipped']);
  });

  it('rejects an invalid selector with the core InvalidEventError', () => {
    expect(() => t.recorder.published('order.ab*')).toThrow(InvalidEventError);
  });

  it('two recorders on one bus see the same events; a detached one stops recording', async () => {
    const second = EventRecorder.attach(t.app);
    t.publisher.publish('order.shipped', { order_id: 1 });
    await t.recorder.settle();
    second.detach();
    t.publisher.publish('order.shipped', { order_id: 2 });
    await t.recorder.settle();

    expect(second.payloads('order.shipped')).toEqual([{ order_id: 1 }]);
    expect(t.recorder.payloads('order.shipped')).toEqual([{ order_id: 1 }, { order_id: 2 }]);
  });
});

describe('EventRecorder.waitFor', () => {
  let t: EventTestingModule;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [OrderFlow] });
  });
  afterEach(() => t.close());

  it('waits for an event published later by a handler, without sleeps', async () => {
    const shipped = t.recorder.waitFor('order.shipped');
    const root = t.publisher.publish('new_order', { order_id: 5 });
    const envelope = await shipped;
    expect(envelope.payload).toEqual({ order_id: 5 });
    expect(envelope.correlationId).toBe(root.id);
  });

  it('resolves at once with an event already recorded (no race with an awaited publish)', async () => {
    await t.publisher.publishAndWait('new_order', { order_id: 5 });
    await t.recorder.settle();
    await expect(t.recorder.waitFor('order.shipped')).resolves.toMatchObject({ payload: { order_id: 5 } });
  });

  it('where narrows by payload, and the typed payload reaches it', async () => {
    const second = t.recorder.waitFor('order.shipped', { where: (order: { order_id: number }) => order.order_id === 2 });
    t.publisher.publish('new_order', { order_id: 1 });
    t.publisher.publish('new_order', { order_id: 2 });
    await expect(second).resolves.toMatchObject({ payload: { order_id: 2 } });
  });

  it('waits for a class event by class, subclasses included', async () => {
    const placed = t.recorder.waitFor(OrderPlaced, { where: (event) => event.orderId > 1 });
    t.publisher.publish(new OrderPlaced(1));
    t.publisher.publish(new RushOrderPlaced(2));
    const envelope: EventEnvelope<OrderPlaced> = await placed;
    expect(envelope.payload).toBeInstanceOf(RushOrderPlaced);
  });

  it('on timeout, fails with a message listing what was published instead', async () => {
    t.publisher.publish('new_order', { order_id: 9 });
    await t.recorder.settle();

    const error = await t.recorder.waitFor('order.cancelled', { timeoutMs: 10 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventNotPublishedError);
    expect((error as EventNotPublishedError).message).toBe(
      'waitFor("order.cancelled") timed out after 10ms: no matching event was published.\n' +
        'Published (3 events, in order):\n' +
        '  1. new_order { order_id: 9 }\n' +
        '  2. order.accepted { order_id: 9 }\n' +
        '  3. order.shipped { order_id: 9 }',
    );
    expect((error as EventNotPublishedError).published.map((e) => e.name)).toEqual(['new_order', 'order.accepted', 'order.shipped']);
  });

  it('on timeout with where, says that matching events were rejected by it', async () => {
    t.publisher.publish('order.shipped', { order_id: 1 });
    await t.recorder.settle();

    await expect(t.recorder.waitFor('order.shipped', { where: (o: { order_id: number }) => o.order_id === 2, timeoutMs: 10 })).rejects.toThrow(
      'waitFor("order.shipped") timed out after 10ms: no matching event was published. ' +
        '1 "order.shipped" event was published, but `where` rejected it.\n' +
        'Published (1 event, in order):\n' +
        '  1. order.shipped { order_id: 1 }',
    );
  });

  it('when nothing at all was dispatched, the message says so and what to call if init() was forgotten', async () => {
    await expect(t.recorder.waitFor('new_order', { timeoutMs: 10 })).rejects.toThrow(
      'Nothing was published (no event was dispatched since the recorder started or since clear()). ' +
        'If the test published before the application was initialised, call `await app.init()`',
    );
  });

  it('a where predicate that throws rejects the wait with the cause, instead of hanging', async () => {
    t.publisher.publish('order.shipped', undefined);
    const error = await t.recorder
      .waitFor('order.shipped', { where: (o: { order_id: number }) => o.order_id === 1 })
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toMatch(/^recorder\.waitFor\("order\.shipped"\): the `where` predicate threw on event id \S+: /);
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });
});

function captureSync(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw');
}
