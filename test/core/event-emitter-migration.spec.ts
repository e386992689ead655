import 'reflect-metadata';
import { Controller, Injectable, Scope } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent as EmitterOnEvent } from '@nestjs/event-emitter';
import { OnEvent } from '../../lib/index.js';
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
