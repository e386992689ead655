import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import {
  EventBusClosedError,
  InvalidEventError,
  OnEvent,
  type EventEnvelope,
  type HandlerFailure,
} from '../../lib/index.js';
import { createApp, deferred, RecordingLogger, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

@Injectable()
class FailingListener {
  @OnEvent('new_order')
  explode(): void {
    throw new Error('sync boom');
  }

  @OnEvent('new_order')
  async reject(): Promise<void> {
    throw new Error('async boom');
  }
}

@Injectable()
class HealthyListener {
  readonly seen: number[] = [];
  @OnEvent('new_order')
  handle(order: { order_id: number }) {
    this.seen.push(order.order_id);
  }
}

describe('publishing', () => {
  it('returns the envelope at once and never runs handlers inside publish', async () => {
    app = await createApp({ providers: [HealthyListener] });
    const envelope = app.events.publish('new_order', { order_id: 7 });
    expect(envelope).toMatchObject({ name: 'new_order', payload: { order_id: 7 }, attempt: 1, headers: {} });
    expect(envelope.correlationId).toBe(envelope.id);
    expect(envelope.causationId).toBeUndefined();
    expect(envelope.occurredAt).toBeInstanceOf(Date);
    expect(app.get(HealthyListener).seen).toEqual([]);
    await app.bus.drain();
    expect(app.get(HealthyListener).seen).toEqual([7]);
  });

  it('isolates failing handlers: the publisher and the other handlers are unaffected, nothing is unhandled', async () => {
    const logger = new RecordingLogger();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      app = await createApp({ providers: [FailingListener, HealthyListener] }, { logger });
      const failures: HandlerFailure[] = [];
      app.bus.errors$.subscribe((f) => failures.push(f));
      const envelope = app.events.publish('new_order', { order_id: 1 });
      app.events.publish('new_order', { order_id: 2 });
      await app.bus.drain();
      // Give a stray rejection one macrotask to surface.
      await new Promise((resolve) => setImmediate(resolve));
      expect(app.get(HealthyListener).seen).toEqual([1, 2]);
      expect(failures).toHaveLength(4);
      expect(failures[0]).toMatchObject({ handler: 'FailingListener.explode', attempt: 1, final: true });
      expect(failures[0].envelope.id).toBe(envelope.id);
      expect((failures[0].error as Error).message).toBe('sync boom');
      expect(failures.map((f) => f.handler).sort()).toEqual([
        'FailingListener.explode',
        'FailingListener.explode',
        'FailingListener.reject',
        'FailingListener.reject',
      ]);
      const errors = logger.messages('error');
      expect(errors.some((m) => m.includes('FailingListener.explode') && m.includes(envelope.id))).toBe(true);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('publishAndWait resolves with a report once every handler finished, without rejecting for failures', async () => {
    app = await createApp({ providers: [FailingListener, HealthyListener] });
    const slow = deferred();
    let slowDone = false;
    app.bus.on('new_order', async () => {
      await slow.promise;
      slowDone = true;
    });
    app.bus.on('new_order', () => undefined, { filter: () => false });
    const waiting = app.events.publishAndWait('new_order', { order_id: 3 });
    let settled = false;
    void waiting.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    slow.resolve();
    const report = await waiting;
    expect(slowDone).toBe(true);
    expect(report.handled).toBe(2);
    expect(report.failed.map((f) => f.handler).sort()).toEqual(['FailingListener.explode', 'FailingListener.reject']);
    expect(report.envelope.payload).toEqual({ order_id: 3 });
  });

  it('publishAndWait with no handler resolves with an empty report', async () => {
    app = await createApp({});
    await expect(app.events.publishAndWait('nobody.listens')).resolves.toMatchObject({ handled: 0, failed: [] });
  });

  it.each([
    ['an empty name', '', /cannot be empty/],
    ['a blank name', '   ', /cannot be empty/],
    ['a pattern', 'order.*', /is a pattern, not an event name/],
    ['a number', 42, /must be a non-empty string or a symbol, got number/],
    ['null', null, /got null/],
    ['a plain object', { order_id: 1 }, /plain object where an event name or an event class instance was expected/],
  ])('refuses %s with InvalidEventError', async (_label, name, message) => {
    app = await createApp({});
    expect(() => app!.bus.publish(name as string)).toThrow(InvalidEventError);
    expect(() => app!.bus.publish(name as string)).toThrow(message);
    await expect(app.bus.publishAndWait(name as string)).rejects.toThrow(InvalidEventError);
  });

  it('accepts symbols as names', async () => {
    const ORDER_PLACED = Symbol('order placed');
    @Injectable()
    class SymbolListener {
      seen: unknown[] = [];
      @OnEvent(ORDER_PLACED)
      handle(payload: unknown) {
        this.seen.push(payload);
      }
    }
    app = await createApp({ providers: [SymbolListener] });
    app.events.publish(ORDER_PLACED, 'x');
    await app.bus.drain();
    expect(app.get(SymbolListener).seen).toEqual(['x']);
  });

  it('refuses publishes once shutdown began', async () => {
    app = await createApp({});
    const { bus } = app;
    await app.close();
    app = undefined;
    expect(() => bus.publish('late')).toThrow(EventBusClosedError);
    expect(() => bus.publish('late')).toThrow(/shutting down/);
  });

  it('copies publish options into the envelope', async () => {
    app = await createApp({});
    const envelope: EventEnvelope = app.events.publish('x', 1, { id: 'my-id', correlationId: 'corr', headers: { tenant: 'a' } });
    expect(envelope).toMatchObject({ id: 'my-id', correlationId: 'corr', headers: { tenant: 'a' } });
  });
});
