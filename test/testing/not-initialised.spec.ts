import 'reflect-metadata';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBusModule, EventBusNotReadyError, EventPublisher, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, EventRecorder } from '../../lib/testing/index.js';

@Injectable()
class Listener {
  readonly seen: number[] = [];
  @OnEvent('new_order')
  handle(order: { order_id: number }) {
    this.seen.push(order.order_id);
  }
}

/** Publishes during start-up, before handlers are registered. */
@Injectable()
class StartupPublisher implements OnModuleInit {
  constructor(private readonly events: EventPublisher) {
    events.publish('new_order', { order_id: 1 });
  }
  onModuleInit() {
    this.events.publish('new_order', { order_id: 2 });
  }
}

const compile = () =>
  Test.createTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Listener] }).compile();

describe('a test that publishes before init() and then waits', () => {
  it('settle() rejects at once, saying what to call, instead of hanging', async () => {
    const moduleRef = await compile();
    const recorder = EventRecorder.attach(moduleRef);
    moduleRef.get(EventPublisher).publish('new_order', { order_id: 1 });

    const error = await recorder.settle().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EventBusNotReadyError);
    expect((error as Error).message).toBe(
      'recorder.settle() cannot finish: the application has not been initialised, so no handler is registered yet. ' +
        'Call `await app.init()` (or `await moduleRef.createNestApplication().init()` in tests) first.',
    );

    // Doing what the message says works. (Closing without it would wait shutdownTimeoutMs for events
    // that can never be delivered: see the core note in the testing report.)
    await moduleRef.init();
    await recorder.settle();
    expect(moduleRef.get(Listener).seen).toEqual([1]);
    await moduleRef.close();
  });

  it('waitFor() rejects at once (no timeout needed), saying what to call', async () => {
    const moduleRef = await compile();
    const recorder = EventRecorder.attach(moduleRef);
    moduleRef.get(EventPublisher).publish('new_order', { order_id: 1 });

    await expect(recorder.waitFor('new_order', { timeoutMs: Infinity })).rejects.toThrow(
      new EventBusNotReadyError('recorder.waitFor("new_order")'),
    );

    await moduleRef.init();
    await expect(recorder.waitFor('new_order')).resolves.toMatchObject({ payload: { order_id: 1 } });
    await moduleRef.close();
  });

  it('once init() ran, the buffered events are delivered and recorded, in order', async () => {
    const moduleRef = await compile();
    const recorder = EventRecorder.attach(moduleRef);
    const publisher = moduleRef.get(EventPublisher);
    publisher.publish('new_order', { order_id: 1 });
    publisher.publish('new_order', { order_id: 2 });
    await moduleRef.init();

    await recorder.settle();
    expect(recorder.payloads('new_order')).toEqual([{ order_id: 1 }, { order_id: 2 }]);
    expect(moduleRef.get(Listener).seen).toEqual([1, 2]);
    await moduleRef.close();
  });

  it('a wait set up before init() resolves once init() dispatches the event', async () => {
    const moduleRef = await compile();
    const recorder = EventRecorder.attach(moduleRef);
    const delivered = recorder.waitFor('new_order', { timeoutMs: Infinity });
    await moduleRef.init();
    moduleRef.get(EventPublisher).publish('new_order', { order_id: 3 });
    await expect(delivered).resolves.toMatchObject({ payload: { order_id: 3 } });
    await moduleRef.close();
  });
});

describe('createEventTestingModule', () => {
  it('initialises the module, so handlers are registered, and records events published during start-up', async () => {
    const t = await createEventTestingModule({
      imports: [EventBusModule.forRoot({ logger: false })],
      providers: [Listener, StartupPublisher],
    });
    await t.recorder.settle();
    expect(t.recorder.payloads('new_order')).toEqual([{ order_id: 1 }, { order_id: 2 }]);
    expect(t.app.get(Listener).seen).toEqual([1, 2]);
    expect(t.bus.handlers()).toEqual([
      { event: 'new_order', handler: 'Listener.handle', options: {}, effective: { retry: undefined, concurrency: undefined, priority: 0 } },
    ]);
    await t.close();
  });

  it('with http: true, returns an initialised HTTP application', async () => {
    const t = await createEventTestingModule(
      { imports: [EventBusModule.forRoot({ logger: false })], providers: [Listener] },
      { http: true },
    );
    expect(typeof t.app.getHttpServer).toBe('function');
    t.publisher.publish('new_order', { order_id: 4 });
    await t.recorder.waitFor('new_order');
    await t.recorder.settle();
    expect(t.app.get(Listener).seen).toEqual([4]);
    await t.close();
  });

  it('says what to import when the module has no event bus', async () => {
    await expect(createEventTestingModule({ providers: [] })).rejects.toThrow(
      /^EventRecorder\.attach\(\) found no EventBus in this module or application\. Import EventBusModule\.forRoot\(\) in the testing module/,
    );
  });
});
