import 'reflect-metadata';
import { Controller, Injectable, Scope, type OnModuleInit } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent as EmitterOnEvent } from '@nestjs/event-emitter';
import { EventBusModule, EventPublisher, InvalidHandlerError, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { createApp, RecordingLogger, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// Half-migrated code: the module was switched, this import was not.
@Injectable()
class LegacyListener {
  readonly calls: unknown[] = [];

  @EmitterOnEvent('order.created', { async: true })
  onOrderCreated(payload: unknown) {
    this.calls.push(payload);
  }

  @OnEvent('order.created')
  migrated() {}
}

class BaseListener {
  @EmitterOnEvent('order.shipped')
  inherited() {}
}

@Injectable({ scope: Scope.REQUEST })
class ScopedLegacyListener extends BaseListener {
  @EmitterOnEvent(['a', 'b'])
  onAorB() {}
}

@Controller()
class LegacyController {
  @EmitterOnEvent('order.**')
  onAnyOrder() {}
}

const warning = (where: string) =>
  `${where} is decorated with @OnEvent from @nestjs/event-emitter, but EventEmitterModule is not imported, ` +
  `so it is never called. Change its import to: import { OnEvent } from 'nestjs-event-bus';`;

describe("migrating from @nestjs/event-emitter: its @OnEvent without its module", () => {
  it('warns at start-up for each such method, naming Class.method and the import to change', async () => {
    const logger = new RecordingLogger();
    app = await createApp(
      { providers: [LegacyListener, ScopedLegacyListener, { provide: 'alias', useExisting: LegacyListener }], controllers: [LegacyController] },
      { logger },
    );
    expect(logger.messages('warn').sort()).toEqual(
      [
        warning('LegacyListener.onOrderCreated'),
        warning('ScopedLegacyListener.onAorB'),
        warning('ScopedLegacyListener.inherited'),
        warning('LegacyController.onAnyOrder'),
      ].sort(),
    );
    // Our own @OnEvent on the same class is registered as usual, and not warned about.
    expect(logger.messages('log')).toContain('Mapped {order.created} -> LegacyListener.migrated');
  });

  it('stays silent when EventEmitterModule is imported too (both used side by side on purpose)', async () => {
    const logger = new RecordingLogger();
    app = await createApp(
      { imports: [EventEmitterModule.forRoot()], providers: [LegacyListener, ScopedLegacyListener], controllers: [LegacyController] },
      { logger },
    );
    expect(logger.messages('warn')).toEqual([]);
    // The event-emitter handler is live there, so a warning would have been wrong.
    await app.get(EventEmitter2).emitAsync('order.created', { id: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(app.get(LegacyListener).calls).toEqual([{ id: 1 }]);
  });

  it('warns once per method when EventBusModule is imported by several modules', async () => {
    const logger = new RecordingLogger();
    app = await createApp({ imports: [EventBusModule.forRoot({ logger })], providers: [LegacyListener] }, { logger });
    expect(logger.messages('warn')).toEqual([warning('LegacyListener.onOrderCreated')]);
  });

  it('says nothing when no method uses event-emitter', async () => {
    const logger = new RecordingLogger();
    @Injectable()
    class Plain {
      @OnEvent('x')
      handle() {}
    }
    app = await createApp({ providers: [Plain] }, { logger });
    expect(logger.messages('warn')).toEqual([]);
  });
});

describe("migrating from @nestjs/event-emitter: its @OnEvent options on ours", () => {
  it('accepts the options that already hold here (async: true, promisify, nextTick, objectify, suppressErrors: true) and keeps them out of the registration', async () => {
    @Injectable()
    class Switched {
      readonly calls: string[] = [];
      @OnEvent('order.created', { async: true, promisify: true, nextTick: false, objectify: true, suppressErrors: true, priority: 2 })
      onCreated(order: { id: number }) {
        this.calls.push(`created ${order.id}`);
      }
      @OnEvent('order.created', { async: true })
      async fails() {
        throw new Error('boom');
      }
    }
    app = await createApp({ providers: [Switched] });
    const report = await app.events.publishAndWait('order.created', { id: 7 });
    expect(app.get(Switched).calls).toEqual(['created 7']);
    expect(report.handled).toBe(1);
    expect(report.failed.map((f) => f.handler)).toEqual(['Switched.fails']);
    expect(app.bus.handlers().map((h) => [h.handler, h.options])).toEqual([
      ['Switched.onCreated', { priority: 2 }],
      ['Switched.fails', {}],
    ]);
  });

  const define = (options: object) => () => {
    class Listener {
      @OnEvent('order.created', options)
      handle() {}
    }
    return Listener;
  };

  it('refuses the ones whose meaning cannot be kept, naming the replacement', () => {
    expect(define({ async: false })).toThrow(InvalidHandlerError);
    expect(define({ async: false })).toThrow('@OnEvent on Listener.handle: async: false (from @nestjs/event-emitter) cannot be kept: handlers never run inside publish; remove it.');
    expect(define({ suppressErrors: false })).toThrow(/suppressErrors: false .*report\.failed.*errors\$/);
    expect(define({ prependListener: true })).toThrow(/prependListener .* use priority/);
  });

  it('refuses them at compile time too', () => {
    const typed = () => {
      class Listener {
        // @ts-expect-error async: false cannot be kept here
        @OnEvent('a', { async: false })
        a() {}
        // @ts-expect-error suppressErrors: false cannot be kept here
        @OnEvent('b', { suppressErrors: false })
        b() {}
        // @ts-expect-error prependListener: use priority
        @OnEvent('c', { prependListener: true })
        c() {}
      }
      return Listener;
    };
    expect(typed).toThrow(InvalidHandlerError);
  });
});

describe("migrating from @nestjs/event-emitter: the README's bridge for call sites not moved yet", () => {
  // The README's EventEmitterBridge, as written there.
  @Injectable()
  class EventEmitterBridge implements OnModuleInit {
    constructor(
      private readonly emitter: EventEmitter2,
      private readonly events: EventPublisher,
    ) {}

    onModuleInit() {
      this.emitter.onAny((event: string | symbol | (string | symbol)[], payload: unknown) => {
        this.events.publish(Array.isArray(event) ? event.join('.') : event, payload);
      });
    }
  }

  @Injectable()
  class MigratedListener {
    readonly seen: [string, unknown][] = [];
    @OnEvent('order.*')
    onOrder(payload: unknown, envelope: EventEnvelope) {
      this.seen.push([String(envelope.name), payload]);
    }
  }

  it('forwards what EventEmitter2 emits to the handlers already switched to nestjs-event-bus', async () => {
    app = await createApp({
      imports: [EventEmitterModule.forRoot({ wildcard: true })],
      providers: [EventEmitterBridge, MigratedListener],
    });
    const emitter = app.get(EventEmitter2);
    emitter.emit('order.created', { id: 1 });
    emitter.emit(['order', 'paid'], { id: 2 });
    emitter.emit('user.created', { id: 3 });
    await app.bus.drain();
    expect(app.get(MigratedListener).seen).toEqual([
      ['order.created', { id: 1 }],
      ['order.paid', { id: 2 }],
    ]);
  });
});
