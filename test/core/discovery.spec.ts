import 'reflect-metadata';
import { Controller, Injectable, Module } from '@nestjs/common';
import { EventBus, EventBusModule, EventPublisher, InvalidHandlerError, OnEvent, type EventBusOptionsFactory } from '../../lib/index.js';
import { createApp, RecordingLogger, type TestApp } from '../support/create-app.js';
import { Test } from '@nestjs/testing';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

@Injectable()
class OrderListener {
  readonly calls: string[] = [];

  @OnEvent('new_order')
  handleNewOrder(order: { order_id: number; item: string }) {
    this.calls.push(`Processing order #${order.order_id} for ${order.item}`);
  }

  @OnEvent(['order.created', 'order.updated'])
  onCreatedOrUpdated(_: unknown, envelope: { name: string | symbol }) {
    this.calls.push(`list:${String(envelope.name)}`);
  }

  @OnEvent('order.*')
  onOneSegment(_: unknown, envelope: { name: string | symbol }) {
    this.calls.push(`star:${String(envelope.name)}`);
  }

  @OnEvent('audit.**')
  onManySegments(_: unknown, envelope: { name: string | symbol }) {
    this.calls.push(`globstar:${String(envelope.name)}`);
  }
}

describe('handler discovery', () => {
  it('delivers an event to its @OnEvent handler, after publish returns', async () => {
    app = await createApp({ providers: [OrderListener] });
    const listener = app.get(OrderListener);
    app.events.publish('new_order', { order_id: 123, item: 'Coffee' });
    expect(listener.calls).toEqual([]);
    await app.bus.drain();
    expect(listener.calls).toEqual(['Processing order #123 for Coffee']);
  });

  it('treats an array as "any of these" and matches * to one segment, ** to one or more', async () => {
    app = await createApp({ providers: [OrderListener] });
    const listener = app.get(OrderListener);
    for (const name of ['order.created', 'order.updated', 'order.created.late', 'audit.x', 'audit.x.y', 'audit']) {
      app.events.publish(name);
    }
    await app.bus.drain();
    expect(listener.calls.sort()).toEqual(
      [
        'list:order.created',
        'star:order.created',
        'list:order.updated',
        'star:order.updated',
        'globstar:audit.x',
        'globstar:audit.x.y',
      ].sort(),
    );
  });

  it('adds up stacked decorators and runs a method once per event even when two of them match', async () => {
    @Injectable()
    class Stacked {
      calls: string[] = [];
      @OnEvent('a')
      @OnEvent('b')
      @OnEvent('a.*')
      handle(_: unknown, envelope: { name: string }) {
        this.calls.push(envelope.name);
      }
    }
    app = await createApp({ providers: [Stacked] });
    app.events.publish('a');
    app.events.publish('b');
    app.events.publish('a.x');
    await app.bus.drain();
    expect(app.get(Stacked).calls).toEqual(['a', 'b', 'a.x']);
    expect(app.bus.handlers().filter((h) => h.handler === 'Stacked.handle').map((h) => h.event)).toEqual(['a.*', 'b', 'a']);
  });

  it('keeps the registration of a method wrapped by another decorator', async () => {
    const traced: string[] = [];
    const Traced = (): MethodDecorator => (_target, key, descriptor: PropertyDescriptor) => {
      const original = descriptor.value as (...args: unknown[]) => unknown;
      descriptor.value = function (this: unknown, ...args: unknown[]) {
        traced.push(String(key));
        return original.apply(this, args);
      };
    };
    @Injectable()
    class Wrapped {
      calls = 0;
      @Traced()
      @OnEvent('wrapped')
      handle() {
        this.calls++;
      }
    }
    app = await createApp({ providers: [Wrapped] });
    app.events.publish('wrapped');
    await app.bus.drain();
    expect(app.get(Wrapped).calls).toBe(1);
    expect(traced).toEqual(['handle']);
  });

  it('finds handlers on controllers and inherited methods', async () => {
    class BaseListener {
      calls: string[] = [];
      @OnEvent('inherited')
      onInherited() {
        this.calls.push('inherited');
      }
    }
    @Injectable()
    class ChildListener extends BaseListener {}
    @Controller()
    class OrdersController {
      calls = 0;
      @OnEvent('controller.event')
      handle() {
        this.calls++;
      }
    }
    app = await createApp({ providers: [ChildListener], controllers: [OrdersController] });
    app.events.publish('inherited');
    app.events.publish('controller.event');
    await app.bus.drain();
    expect(app.get(ChildListener).calls).toEqual(['inherited']);
    expect(app.get(OrdersController).calls).toBe(1);
  });

  it('registers an aliased provider (useExisting) once', async () => {
    app = await createApp({ providers: [OrderListener, { provide: 'ALIAS', useExisting: OrderListener }] });
    app.events.publish('new_order', { order_id: 1, item: 'Tea' });
    await app.bus.drain();
    expect(app.get(OrderListener).calls).toEqual(['Processing order #1 for Tea']);
    expect(app.bus.handlers().filter((h) => h.handler === 'OrderListener.handleNewOrder')).toHaveLength(1);
  });

  it('does not crash on null-prototype, Proxy, primitive or undefined providers', async () => {
    // A mock-style Proxy that answers every property with a function (as auto-mocking libraries do).
    const anythingGoes = new Proxy({}, { get: () => () => undefined });
    const proxiedListener = new Proxy(new OrderListener(), {});
    app = await createApp({
      providers: [
        OrderListener,
        { provide: 'NULL_PROTO', useValue: Object.create(null) },
        { provide: 'MOCK_PROXY', useValue: anythingGoes },
        { provide: 'PROXIED', useValue: proxiedListener },
        { provide: 'NUMBER', useValue: 42 },
        { provide: 'UNDEFINED', useValue: undefined },
        { provide: 'FACTORY', useFactory: () => new OrderListener() },
      ],
    });
    app.events.publish('new_order', { order_id: 2, item: 'Tea' });
    await app.bus.drain();
    expect(app.get(OrderListener).calls).toEqual(['Processing order #2 for Tea']);
    // Instances made by a factory or wrapped in a Proxy are providers of their own and are registered too.
    expect(app.get<OrderListener>('FACTORY').calls).toEqual(['Processing order #2 for Tea']);
    expect(proxiedListener.calls).toEqual(['Processing order #2 for Tea']);
  });

  it('logs one "Mapped" line per (event, handler) at start-up', async () => {
    const logger = new RecordingLogger();
    app = await createApp({ providers: [OrderListener] }, { logger });
    expect(logger.messages('log')).toEqual(
      expect.arrayContaining([
        'Mapped {new_order} -> OrderListener.handleNewOrder',
        'Mapped {order.created} -> OrderListener.onCreatedOrUpdated',
        'Mapped {order.updated} -> OrderListener.onCreatedOrUpdated',
        'Mapped {order.*} -> OrderListener.onOneSegment',
      ]),
    );
  });

  it('keeps two applications in one process independent', async () => {
    const first = await createApp({ providers: [OrderListener] });
    const second = await createApp({ providers: [OrderListener] });
    try {
      first.events.publish('new_order', { order_id: 1, item: 'A' });
      await first.bus.drain();
      await second.bus.drain();
      expect(first.get(OrderListener).calls).toHaveLength(1);
      expect(second.get(OrderListener).calls).toHaveLength(0);
      expect(first.bus).not.toBe(second.bus);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('is global by default and can be made non-global', async () => {
    @Injectable()
    class NeedsPublisher {
      constructor(readonly events: EventPublisher) {}
    }
    @Module({ providers: [NeedsPublisher] })
    class FeatureModule {}

    const globalRef = await Test.createTestingModule({ imports: [EventBusModule.forRoot({ logger: false }), FeatureModule] }).compile();
    expect(globalRef.get(NeedsPublisher).events).toBeInstanceOf(EventPublisher);
    await globalRef.close();

    await expect(
      Test.createTestingModule({ imports: [EventBusModule.forRoot({ logger: false, global: false }), FeatureModule] }).compile(),
    ).rejects.toThrow(/EventPublisher/);
  });

  it('takes options from forRootAsync with a factory', async () => {
    const logger = new RecordingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRootAsync({ useFactory: async () => ({ logger, retry: { attempts: 2 } }) })],
      providers: [OrderListener],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    await nest.init();
    expect(logger.messages('log')).toContain('Mapped {new_order} -> OrderListener.handleNewOrder');
    const bus = nest.get(EventBus);
    let calls = 0;
    bus.on('flaky', () => {
      if (++calls === 1) throw new Error('first try fails');
    });
    const report = await nest.get(EventPublisher).publishAndWait('flaky');
    expect(report).toMatchObject({ handled: 1, failed: [] });
    expect(calls).toBe(2);
    await nest.close();
  });
});

describe('forRootAsync with useClass', () => {
  it('takes options from a class implementing EventBusOptionsFactory', async () => {
    const logger = new RecordingLogger();
    @Injectable()
    class EventBusConfig implements EventBusOptionsFactory {
      createEventBusOptions() {
        return { logger, retry: { attempts: 3 } };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRootAsync({ useClass: EventBusConfig })],
      providers: [OrderListener],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    await nest.init();
    expect(logger.messages('log')).toContain('Mapped {new_order} -> OrderListener.handleNewOrder');
    expect(nest.get(EventBus).handlers()[0].effective.retry).toEqual({ attempts: 3 });
    await nest.close();
  });
});

describe('@OnEvent misuse', () => {
  const define = (body: () => void) => body;

  it('names the class and method for an invalid event name', () => {
    expect(
      define(() => {
        class Bad {
          @OnEvent('')
          handle() {}
        }
        return Bad;
      }),
    ).toThrow(new InvalidHandlerError('@OnEvent on Bad.handle: the event name is empty.'));
  });

  it('rejects a * inside a segment, with the class and method', () => {
    expect(
      define(() => {
        class Bad {
          @OnEvent('order*')
          handle() {}
        }
        return Bad;
      }),
    ).toThrow(/@OnEvent on Bad\.handle: "order\*" is not a valid event pattern/);
  });

  it('rejects a non-method and a static method', () => {
    expect(
      define(() => {
        class Bad {
          @(OnEvent('x') as PropertyDecorator)
          notAMethod = 1;
        }
        return Bad;
      }),
    ).toThrow(/Bad\.notAMethod: only methods can be handlers/);
    expect(
      define(() => {
        class Bad {
          @OnEvent('x')
          static handle() {}
        }
        return Bad;
      }),
    ).toThrow(/Bad\.handle: static methods cannot be handlers/);
  });

  it('rejects an empty list and a wrong option', () => {
    expect(
      define(() => {
        class Bad {
          @OnEvent([])
          handle() {}
        }
        return Bad;
      }),
    ).toThrow(/Bad\.handle: the list of events is empty/);
    expect(
      define(() => {
        class Bad {
          @OnEvent('x', { retry: { attempts: 0 } })
          handle() {}
        }
        return Bad;
      }),
    ).toThrow(/Bad\.handle: retry\.attempts must be a whole number >= 1/);
  });
});
