import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Histogram } from '@opentelemetry/sdk-metrics';
import { EventBus, EventBusModule, OnEvent } from '../../lib/index.js';
import { createApp, deferred, type TestApp } from '../support/create-app.js';
import { installSdk, valueOf, type InstalledSdk } from './support/otel-sdk.js';

// Metric values after a known workload, read with an on-demand metric reader (a MeterProvider registered
// before the application is created, as NodeSDK does).

let sdk: InstalledSdk;
let app: TestApp | undefined;

beforeEach(() => {
  // A fresh meter provider per test: counters start at zero.
  sdk = installSdk();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await sdk.uninstall();
});

const event = (name: string) => ({ 'messaging.destination.name': name });
const of = (name: string, handler: string) => ({ 'messaging.destination.name': name, 'nestjs_event_bus.handler': handler });

describe('bus metrics', () => {
  it('published, handled, failed attempts, dead-lettered and handler durations, by event and handler', async () => {
    @Injectable()
    class Listeners {
      @OnEvent('order.placed')
      confirm() {}

      @OnEvent('order.placed', { retry: { attempts: 2 } })
      charge() {
        throw new RangeError('card declined');
      }

      @OnEvent('order.cancelled')
      refund() {}

      @OnEvent('order.*', { filter: () => false })
      ignored() {}
    }
    app = await createApp({ providers: [Listeners] });

    for (let i = 0; i < 5; i++) app.events.publish('order.placed', { i });
    for (let i = 0; i < 3; i++) app.events.publish('order.cancelled', { i });
    await app.bus.drain();

    const published = await sdk.points('nestjs_event_bus.published');
    expect(valueOf(published, { ...event('order.placed'), 'messaging.system': 'nestjs_event_bus' })).toBe(5);
    expect(valueOf(published, event('order.cancelled'))).toBe(3);

    const handled = await sdk.points('nestjs_event_bus.handled');
    expect(valueOf(handled, of('order.placed', 'Listeners.confirm'))).toBe(5);
    expect(valueOf(handled, of('order.cancelled', 'Listeners.refund'))).toBe(3);
    expect(valueOf(handled, of('order.placed', 'Listeners.charge'))).toBeUndefined();
    expect(handled).toHaveLength(2);

    const failed = await sdk.points('nestjs_event_bus.failed_attempts');
    expect(valueOf(failed, { ...of('order.placed', 'Listeners.charge'), 'nestjs_event_bus.outcome': 'failed', 'error.type': 'RangeError' })).toBe(5);
    expect(valueOf(failed, { ...of('order.placed', 'Listeners.charge'), 'nestjs_event_bus.outcome': 'dead-lettered' })).toBe(5);
    expect(failed).toHaveLength(2);

    const dead = await sdk.points('nestjs_event_bus.dead_lettered');
    expect(dead.map((p) => [p.attributes['nestjs_event_bus.handler'], p.attributes['messaging.destination.name'], p.value])).toEqual([
      ['Listeners.charge', 'order.placed', 5],
    ]);

    const durations = await sdk.points('nestjs_event_bus.handler.duration');
    const count = (match: Record<string, string>) => (valueOf(durations, match) as Histogram | undefined)?.count;
    expect(count({ ...of('order.placed', 'Listeners.confirm'), 'nestjs_event_bus.outcome': 'succeeded' })).toBe(5);
    expect(count({ ...of('order.placed', 'Listeners.charge'), 'nestjs_event_bus.outcome': 'failed' })).toBe(5);
    expect(count({ ...of('order.placed', 'Listeners.charge'), 'nestjs_event_bus.outcome': 'dead-lettered' })).toBe(5);
    expect(count({ ...of('order.cancelled', 'Listeners.ignored'), 'nestjs_event_bus.outcome': 'filtered' })).toBe(3);
    // 5 + 5 + 5 + 3 + 5 (placed, filtered) + 3 (cancelled, refund)
    expect(durations.reduce((n, p) => n + (p.value as Histogram).count, 0)).toBe(26);
  });

  it('queue depth and waiting runs are read when the reader collects', async () => {
    const release = deferred();
    let started = 0;
    @Injectable()
    class OneAtATime {
      @OnEvent('report.requested', { concurrency: 1 })
      async build() {
        started++;
        await release.promise;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRoot({ logger: false })],
      providers: [OneAtATime],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    app = { app: nest, bus: nest.get(EventBus), events: undefined as never, get: () => undefined as never, close: () => nest.close() };

    // Before start-up finished, published events wait in the queue.
    for (let i = 0; i < 3; i++) app.bus.publish('report.requested', { i });
    expect(valueOf(await sdk.points('nestjs_event_bus.queue.depth'), {})).toBe(3);
    expect(valueOf(await sdk.points('nestjs_event_bus.handler.waiting_runs'), {})).toBe(0);

    await nest.init();
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toBe(1);
    expect(valueOf(await sdk.points('nestjs_event_bus.queue.depth'), {})).toBe(0);
    expect(valueOf(await sdk.points('nestjs_event_bus.handler.waiting_runs'), {})).toBe(2);

    release.resolve();
    await app.bus.drain();
    expect(valueOf(await sdk.points('nestjs_event_bus.handler.waiting_runs'), {})).toBe(0);
    // In-process: no transport gauges.
    expect(await sdk.points('nestjs_event_bus.transport.in_flight')).toEqual([]);
    expect(await sdk.points('nestjs_event_bus.consumer.lag')).toEqual([]);
  });

  it('telemetry: false -> no instruments are created', async () => {
    @Injectable()
    class Listener {
      @OnEvent('order.placed')
      confirm() {}
    }
    app = await createApp({ providers: [Listener] }, { logger: false, telemetry: false });
    app.events.publish('order.placed', {});
    await app.bus.drain();

    expect(await sdk.points('nestjs_event_bus.published')).toEqual([]);
    expect(await sdk.points('nestjs_event_bus.queue.depth')).toEqual([]);
  });
});
