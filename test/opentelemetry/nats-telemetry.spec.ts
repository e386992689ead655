import 'reflect-metadata';
import { SpanKind } from '@opentelemetry/api';
import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEvent } from '../../lib/index.js';
import { deferred, describeWithNats, eventually, transport } from '../nats/support/nats-test-env.js';
import { setUpNatsSuite } from '../nats/support/nats-suite.js';
import { installSdk, valueOf, type InstalledSdk } from './support/otel-sdk.js';

// Over NATS JetStream in one process: spans of a delivery (send -> receive -> process, a redelivery's
// delivery count), and the transport gauges (in-flight messages, consumer lag) read while a handler holds
// the only handling slot.

const describeNats = await describeWithNats();

describeNats('OpenTelemetry over NATS', () => {
  const suite = setUpNatsSuite('otel');
  let sdk: InstalledSdk;

  beforeEach(() => {
    sdk = installSdk();
  });
  afterEach(async () => {
    await sdk.uninstall();
  });

  it('in-flight messages and consumer lag are observed while one handler holds the only slot', async () => {
    const release = deferred();
    let started = 0;
    @Injectable()
    class Slow {
      @OnEvent('report.requested')
      async build() {
        started++;
        await release.promise;
      }
    }
    const names = suite.names();
    const app = await suite.startApp(transport(names, 'reports', { concurrency: 1 }), [Slow]);
    const events = app.get(EventPublisher);
    for (let i = 0; i < 3; i++) await events.publishAndWait('report.requested', { i });
    await eventually(() => started === 1);

    const group = { 'messaging.system': 'nats', 'messaging.consumer.group.name': 'reports' };
    expect(valueOf(await sdk.points('nestjs_event_bus.transport.in_flight'), group)).toBe(1);
    // One message in hand, two not yet delivered to the group.
    expect(valueOf(await sdk.points('nestjs_event_bus.consumer.lag'), group)).toBe(2);

    release.resolve();
    await eventually(() => started === 3);
    await eventually(async () => valueOf(await sdk.points('nestjs_event_bus.consumer.lag'), group) === 0);
    const published = await sdk.points('nestjs_event_bus.published');
    expect(valueOf(published, { 'messaging.system': 'nats', 'messaging.destination.name': 'report.requested' })).toBe(3);
  });

  it("an event that does not travel (module option travel) is traced as in-process: messaging.system nestjs_event_bus, no group", async () => {
    const handled = deferred();
    @Injectable()
    class Local {
      @OnEvent('cache.invalidated')
      evict() {
        handled.resolve();
      }
    }
    const names = suite.names();
    const app = await suite.startApp(transport(names, 'cache'), [Local], { travel: ['order.**'] });
    app.get(EventPublisher).publish('cache.invalidated', { key: 'k' });
    await handled.promise;
    await eventually(async () => (await sdk.spans()).some((s) => s.name === 'process cache.invalidated'));

    const spans = await sdk.spans();
    const [send] = spans.filter((s) => s.name === 'send cache.invalidated');
    const [process] = spans.filter((s) => s.name === 'process cache.invalidated');
    expect(spans.some((s) => s.name.startsWith('receive'))).toBe(false);
    expect(send.attributes['messaging.system']).toBe('nestjs_event_bus');
    expect(process.attributes['messaging.system']).toBe('nestjs_event_bus');
    expect(process.attributes['messaging.consumer.group.name']).toBeUndefined();
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
  });

  it('a failing handler: each delivery is a receive span with its delivery count; its attempts are process spans under it', async () => {
    let calls = 0;
    const done = deferred();
    @Injectable()
    class Flaky {
      @OnEvent('invoice.due')
      charge() {
        if (++calls === 1) throw new Error('gateway timeout');
        done.resolve();
      }
    }
    const names = suite.names();
    const app = await suite.startApp(transport(names, 'billing', { maxDeliveries: 3, backoff: { initialDelayMs: 10 } }), [Flaky]);
    const sent = await app.get(EventPublisher).publishAndWait('invoice.due', { amount: 5 });
    await done.promise;
    await eventually(async () => (await sdk.spans()).filter((s) => s.name === 'receive invoice.due').length === 2);

    const spans = await sdk.spans();
    const [send] = spans.filter((s) => s.name === 'send invoice.due');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes['messaging.message.id']).toBe(sent.envelope.id);
    const receives = spans.filter((s) => s.name === 'receive invoice.due');
    expect(receives.map((s) => s.attributes['nestjs_event_bus.delivery_count'])).toEqual([1, 2]);
    expect(receives.map((s) => [s.attributes['nestjs_event_bus.handlers.succeeded'], s.attributes['nestjs_event_bus.handlers.failed']])).toEqual([
      [0, 1],
      [1, 0],
    ]);
    for (const receive of receives) {
      expect(receive.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
      expect(receive.spanContext().traceId).toBe(send.spanContext().traceId);
    }
    const processes = spans.filter((s) => s.name === 'process invoice.due');
    expect(processes.map((s) => [s.attributes['nestjs_event_bus.outcome'], s.attributes['nestjs_event_bus.delivery_count']])).toEqual([
      ['redelivered', 1],
      ['succeeded', 2],
    ]);
    expect(processes.map((s) => s.parentSpanContext?.spanId)).toEqual(receives.map((s) => s.spanContext().spanId));
  });
});
