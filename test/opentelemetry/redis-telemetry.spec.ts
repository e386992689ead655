import 'reflect-metadata';
import { SpanKind } from '@opentelemetry/api';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBusModule, EventPublisher, OnEvent } from '../../lib/index.js';
import { RedisStreamsTransport } from '../../lib/redis/index.js';
import { deferred } from '../support/create-app.js';
import { deleteStreamKeys, describeWithRedis, rawClient, REDIS_URL, uniqueStream } from '../redis/support/redis-test-env.js';
import { installSdk, type InstalledSdk } from './support/otel-sdk.js';

// Over Redis Streams in one process: the trace context travels in the entry's headers field; the
// delivery is a receive span (messaging.system redis, the group, the delivery count) under the send span.

const describeRedis = await describeWithRedis('test/opentelemetry/redis-telemetry.spec.ts');

describeRedis('OpenTelemetry over Redis Streams', () => {
  let sdk: InstalledSdk;
  let app: INestApplication | undefined;
  const stream = uniqueStream('otel');

  beforeEach(() => {
    sdk = installSdk();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await sdk.uninstall();
    const client = rawClient();
    await deleteStreamKeys(client, stream);
    client.disconnect();
  });

  it('send -> receive -> process: one trace, parents and links, system redis, group and delivery count', async () => {
    const handled = deferred();
    @Injectable()
    class Billing {
      @OnEvent('invoice.due')
      charge() {
        handled.resolve();
      }
    }
    @Module({
      imports: [EventBusModule.forRoot({ logger: false, transport: new RedisStreamsTransport({ connection: REDIS_URL, stream, group: 'billing', blockMs: 300 }) })],
      providers: [Billing],
    })
    class RedisOtelModule {}
    const moduleRef = await Test.createTestingModule({ imports: [RedisOtelModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();

    const sent = await app.get(EventPublisher).publishAndWait('invoice.due', { amount: 5 });
    await handled.promise;
    let spans = await sdk.spans();
    for (let i = 0; i < 100 && !spans.some((s) => s.name === 'receive invoice.due' && s.ended); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      spans = await sdk.spans();
    }

    const [send] = spans.filter((s) => s.name === 'send invoice.due');
    const [receive] = spans.filter((s) => s.name === 'receive invoice.due');
    const [process] = spans.filter((s) => s.name === 'process invoice.due');
    expect(sent.envelope.headers.traceparent).toBe(`00-${send.spanContext().traceId}-${send.spanContext().spanId}-01`);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes['messaging.system']).toBe('redis');
    expect(receive.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(receive.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(receive.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.consumer.group.name': 'billing',
      'messaging.message.id': sent.envelope.id,
      'nestjs_event_bus.delivery_count': 1,
    });
    expect(process.parentSpanContext?.spanId).toBe(receive.spanContext().spanId);
    expect(process.attributes['nestjs_event_bus.handler']).toBe('Billing.charge');
    expect(new Set([send, receive, process].map((s) => s.spanContext().traceId)).size).toBe(1);
  });
});
