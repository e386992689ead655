import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { DrainTimeoutError, OnEvent, WaitForTimeoutError, type EventEnvelope } from '../../lib/index.js';
import { createApp, deferred, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('EventBus', () => {
  it('emits events$ at dispatch, so a waitFor set up right after publish still sees the event', async () => {
    app = await createApp({});
    const envelope = app.events.publish('order.created', { id: 1 });
    const seen = await app.bus.waitFor('order.created');
    expect(seen.id).toBe(envelope.id);
  });

  it('filters with ofEvent by name, pattern and class', async () => {
    class Shipped {
      constructor(readonly id: number) {}
    }
    app = await createApp({});
    const byName: string[] = [];
    const byPattern: string[] = [];
    const byClass: unknown[] = [];
    app.bus.ofEvent('a.b').subscribe((e) => byName.push(String(e.name)));
    app.bus.ofEvent('a.*').subscribe((e) => byPattern.push(String(e.name)));
    app.bus.ofEvent(Shipped).subscribe((e) => byClass.push(e.payload));
    app.events.publish('a.b');
    app.events.publish('a.c');
    app.events.publish('a.b.c');
    app.events.publish(new Shipped(9));
    await app.bus.drain();
    expect(byName).toEqual(['a.b']);
    expect(byPattern).toEqual(['a.b', 'a.c']);
    expect(byClass).toEqual([new Shipped(9)]);
  });

  it('on() has set semantics and returns a remover; off() removes too', async () => {
    app = await createApp({});
    const calls: string[] = [];
    const listener = (payload: string) => void calls.push(payload);
    const remove = app.bus.on('ping', listener);
    app.bus.on('ping', listener);
    app.events.publish('ping', 'one');
    await app.bus.drain();
    expect(calls).toEqual(['one']);
    remove();
    app.events.publish('ping', 'two');
    await app.bus.drain();
    expect(calls).toEqual(['one']);
    app.bus.on('ping', listener);
    app.bus.off('ping', listener);
    app.events.publish('ping', 'three');
    await app.bus.drain();
    expect(calls).toEqual(['one']);
  });

  it('removing one of several listeners of an event keeps the others, in order', async () => {
    app = await createApp({});
    const calls: string[] = [];
    const offs = ['a', 'b', 'c'].map((label) => app!.bus.on('shared', () => void calls.push(label)));
    offs[1]();
    app.events.publish('shared');
    await app.bus.drain();
    offs[0]();
    app.events.publish('shared');
    await app.bus.drain();
    offs[2]();
    app.events.publish('shared');
    await app.bus.drain();
    expect(calls).toEqual(['a', 'c', 'c']);
    expect(app.bus.handlers()).toEqual([]);
  });

  it('a listener on two events stays registered on the other when removed from one', async () => {
    app = await createApp({});
    const calls: string[] = [];
    const listener = (_: unknown, e: EventEnvelope) => void calls.push(String(e.name));
    app.bus.on('a', listener);
    const offB = app.bus.on('b', listener);
    offB();
    app.events.publish('a');
    app.events.publish('b');
    await app.bus.drain();
    expect(calls).toEqual(['a']);
  });

  it('waitFor honours a filter and rejects after its timeout', async () => {
    app = await createApp({});
    const waiting = app.bus.waitFor<{ n: number }>('tick', { filter: (e) => (e.payload as { n: number }).n === 2 });
    app.events.publish('tick', { n: 1 });
    app.events.publish('tick', { n: 2 });
    expect((await waiting).payload).toEqual({ n: 2 });
    await expect(app.bus.waitFor('never', { timeoutMs: 5 })).rejects.toThrow(WaitForTimeoutError);
  });

  it('drain waits for events published by handlers meanwhile, and rejects after its timeout', async () => {
    app = await createApp({});
    const order: string[] = [];
    app.bus.on('first', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      order.push('first');
      app!.events.publish('second');
    });
    app.bus.on('second', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      order.push('second');
    });
    app.events.publish('first');
    await app.bus.drain();
    expect(order).toEqual(['first', 'second']);

    const never = deferred();
    app.bus.on('stuck', () => never.promise);
    app.events.publish('stuck');
    await expect(app.bus.drain(5)).rejects.toThrow(DrainTimeoutError);
    never.resolve();
    await app.bus.drain();
  });

  it('lists every registration with handlers()', async () => {
    @Injectable()
    class Topology {
      @OnEvent(['a', 'b.*'], { priority: 5 })
      handle() {}
    }
    app = await createApp({ providers: [Topology] }, { logger: false, retry: { attempts: 3 }, concurrency: 4 });
    function auditTrail() {}
    app.bus.on('c', auditTrail, { concurrency: 1 });
    const defaults = { retry: { attempts: 3 }, concurrency: 4 };
    expect(app.bus.handlers()).toEqual([
      { event: 'a', handler: 'Topology.handle', options: { priority: 5 }, effective: { ...defaults, priority: 5 } },
      { event: 'b.*', handler: 'Topology.handle', options: { priority: 5 }, effective: { ...defaults, priority: 5 } },
      { event: 'c', handler: 'auditTrail', options: { concurrency: 1 }, effective: { ...defaults, concurrency: 1, priority: 0 } },
    ]);
  });

  it('keeps dispatching when an events$ subscriber is slow to unsubscribe or subscribes late', async () => {
    app = await createApp({});
    const seen: string[] = [];
    const subscription = app.bus.events$.subscribe((e) => seen.push(String(e.name)));
    app.events.publish('one');
    await app.bus.drain();
    subscription.unsubscribe();
    app.events.publish('two');
    await app.bus.drain();
    expect(seen).toEqual(['one']);
  });
});
