/** The handler-invocation middleware seam integrations (the outbox's inbox) wrap handler calls with. */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { OnEvent, type EventEnvelope, type HandlerInvocation } from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';

@Injectable()
class Listener {
  readonly calls: unknown[][] = [];
  @OnEvent('order.placed', { retry: { attempts: 2 } })
  onPlaced(payload: unknown, envelope: EventEnvelope, ...extra: unknown[]) {
    this.calls.push([payload, envelope.id, ...extra]);
  }
}

describe('handler middleware', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('wraps each call, sees the invocation, and passes the arguments given to next() after the envelope', async () => {
    t = await createApp({ providers: [Listener] });
    const seen: HandlerInvocation[] = [];
    t.bus.useHandlerMiddleware((invocation, next) => {
      seen.push(invocation);
      return next('outer');
    });
    t.bus.useHandlerMiddleware(async (_invocation, next) => next('inner'));
    const report = await t.bus.publishAndWait('order.placed', { id: 1 });
    expect(report.handled).toBe(1);
    expect(t.get(Listener).calls).toEqual([[{ id: 1 }, report.envelope.id, 'outer', 'inner']]);
    expect(seen.map((i) => [i.handler, i.options, i.instance === t.get(Listener), i.envelope.id])).toEqual([
      ['Listener.onPlaced', { retry: { attempts: 2 } }, true, report.envelope.id],
    ]);
  });

  it('counts a middleware throw as a failure of the handler (retried, then dead-lettered) and skips the handler when next() is not called', async () => {
    t = await createApp({ providers: [Listener] });
    let calls = 0;
    t.bus.useHandlerMiddleware(() => {
      calls++;
      throw new Error('middleware refused');
    });
    const report = await t.bus.publishAndWait('order.placed', { id: 2 });
    expect(calls).toBe(2);
    expect(report.failed.map((f) => [f.handler, (f.error as Error).message])).toEqual([['Listener.onPlaced', 'middleware refused']]);
    expect(t.get(Listener).calls).toEqual([]);
  });

  it('leaves handlers called with exactly (payload, envelope) when there is no middleware', async () => {
    t = await createApp({ providers: [Listener] });
    const report = await t.bus.publishAndWait('order.placed', 3);
    expect(t.get(Listener).calls).toEqual([[3, report.envelope.id]]);
  });
});

describe('EventBus.eventClass (integrations reviving JSON payloads)', () => {
  it('returns the class handled under a name, undefined for a name no class handler uses', async () => {
    const { Event, OnEventClass } = await import('../../lib/index.js');
    @Event('order.shipped')
    class OrderShipped {
      constructor(readonly id: number) {}
    }
    @Injectable()
    class ShippedListener {
      @OnEventClass(OrderShipped)
      on(_event: OrderShipped) {}
    }
    const t = await createApp({ providers: [ShippedListener] });
    try {
      expect(t.bus.eventClass('order.shipped')).toBe(OrderShipped);
      expect(t.bus.eventClass('order.placed')).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});
