import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('envelopes', () => {
  it('gives 100,000 publishes unique ids whose string order is publish order', async () => {
    app = await createApp({});
    const ids: string[] = [];
    for (let i = 0; i < 100_000; i++) ids.push(app.events.publish('e', i).id);
    expect(new Set(ids).size).toBe(ids.length);
    // Strictly increasing as strings (a plain loop: toEqual on 100k-element arrays is slow under load).
    const outOfOrder = ids.findIndex((id, i) => i > 0 && !(ids[i - 1] < id));
    expect(outOfOrder === -1 ? 'ordered' : `${ids[outOfOrder - 1]} >= ${ids[outOfOrder]} at ${outOfOrder}`).toBe('ordered');
    await app.bus.drain();
  });

  it('keeps ids unique across two buses (process tag) and ordered by time', async () => {
    const first = await createApp({});
    const second = await createApp({});
    try {
      const a = first.events.publish('e');
      await new Promise((resolve) => setTimeout(resolve, 2));
      const b = second.events.publish('e');
      expect(a.id).not.toBe(b.id);
      expect(a.id < b.id).toBe(true);
      expect(b.occurredAt.getTime()).toBeGreaterThanOrEqual(a.occurredAt.getTime());
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('links events published by handlers, through async hops, by causation and correlation', async () => {
    const seen = new Map<string, EventEnvelope>();
    @Injectable()
    class Chain {
      constructor(private readonly events: EventPublisher) {}

      @OnEvent('order.placed')
      async onPlaced(_: unknown, envelope: EventEnvelope) {
        seen.set('placed', envelope);
        await new Promise((resolve) => setTimeout(resolve, 1));
        await Promise.resolve();
        this.events.publish('stock.reserved');
      }

      @OnEvent('stock.reserved')
      async onReserved(_: unknown, envelope: EventEnvelope) {
        seen.set('reserved', envelope);
        await new Promise((resolve) => setImmediate(resolve));
        this.events.publish('email.sent');
      }

      @OnEvent('email.sent')
      onSent(_: unknown, envelope: EventEnvelope) {
        seen.set('sent', envelope);
      }
    }
    app = await createApp({ providers: [Chain] });
    const lastHop = app.bus.waitFor('email.sent');
    const root = app.events.publish('order.placed', {}, { correlationId: 'checkout-42' });
    const outside = app.events.publish('unrelated');
    await lastHop;
    await app.bus.drain();
    const placed = seen.get('placed')!;
    const reserved = seen.get('reserved')!;
    const sent = seen.get('sent')!;
    expect(placed.id).toBe(root.id);
    expect(reserved.causationId).toBe(placed.id);
    expect(sent.causationId).toBe(reserved.id);
    expect([placed.correlationId, reserved.correlationId, sent.correlationId]).toEqual(['checkout-42', 'checkout-42', 'checkout-42']);
    expect(outside.causationId).toBeUndefined();
    expect(outside.correlationId).toBe(outside.id);
  });

  it('with asyncContext: false, links only events published before the first await, and enables no AsyncLocalStorage', async () => {
    app = await createApp({}, { logger: false, asyncContext: false });
    const seen = new Map<string, EventEnvelope>();
    app.bus.on('root', async () => {
      app!.events.publish('sync.child');
      await Promise.resolve();
      app!.events.publish('async.child');
    });
    app.bus.on('sync.child', (_: unknown, e: EventEnvelope) => void seen.set('sync', e));
    app.bus.on('async.child', (_: unknown, e: EventEnvelope) => void seen.set('async', e));
    const root = app.events.publish('root');
    await app.bus.drain();
    expect(seen.get('sync')!.causationId).toBe(root.id);
    expect(seen.get('sync')!.correlationId).toBe(root.id);
    expect(seen.get('async')!.causationId).toBeUndefined();
    expect((app.bus as unknown as { dispatcher: { context: { storage: unknown } } }).dispatcher.context.storage).toBeUndefined();
  });

  it('counts attempts per handler on retries, with the same id', async () => {
    app = await createApp({});
    const attempts: [string, number][] = [];
    app.bus.on(
      'r',
      (_: unknown, envelope: EventEnvelope) => {
        attempts.push([envelope.id, envelope.attempt]);
        if (envelope.attempt < 3) throw new Error('again');
      },
      { retry: { attempts: 3 } },
    );
    const envelope = app.events.publish('r');
    await app.bus.drain();
    expect(attempts).toEqual([
      [envelope.id, 1],
      [envelope.id, 2],
      [envelope.id, 3],
    ]);
    expect(envelope.attempt).toBe(1);
  });

  it('serialises to JSON with its fields', async () => {
    app = await createApp({});
    const envelope = app.events.publish('j', { a: 1 }, { headers: { h: 'v' } });
    expect(JSON.parse(JSON.stringify(envelope))).toEqual({
      id: envelope.id,
      name: 'j',
      payload: { a: 1 },
      occurredAt: envelope.occurredAt.toISOString(),
      correlationId: envelope.id,
      attempt: 1,
      headers: { h: 'v' },
    });
    await app.bus.drain();
  });
});
