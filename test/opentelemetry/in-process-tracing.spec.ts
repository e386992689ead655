import 'reflect-metadata';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEvent } from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';
import { installSdk, parentSpanId, spanNamed, type InstalledSdk } from './support/otel-sdk.js';

// In-process publish -> handler with a tracer provider registered (in-memory exporter): the span tree
// and its attributes, retries, a dead letter, a follow-up published by a handler, and telemetry: false.

class PaymentDeclinedError extends Error {}

let sdk: InstalledSdk;
let app: TestApp | undefined;

beforeAll(() => {
  sdk = installSdk({ metrics: false });
});
afterAll(async () => {
  await sdk.uninstall();
});
beforeEach(() => sdk.reset());
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const traceIdOf = (span: { spanContext(): { traceId: string } }) => span.spanContext().traceId;
const spanIdOf = (span: { spanContext(): { spanId: string } }) => span.spanContext().spanId;

describe('in-process tracing', () => {
  it('publish inside an active span -> PRODUCER send, then a CONSUMER process span per handler, children of it, one trace', async () => {
    @Injectable()
    class OrderListener {
      @OnEvent('order.placed')
      confirm() {}

      @OnEvent('order.*')
      audit() {}
    }
    app = await createApp({ providers: [OrderListener] });

    const tracer = trace.getTracer('test');
    const envelope = tracer.startActiveSpan('POST /orders', (request) => {
      try {
        return app!.events.publish('order.placed', { id: 1 }, { correlationId: 'conv-1' });
      } finally {
        request.end();
      }
    });
    await app.bus.drain();

    const spans = (await sdk.spans());
    const [request] = spanNamed(spans, 'POST /orders');
    const [send] = spanNamed(spans, 'send order.placed');
    const processes = spanNamed(spans, 'process order.placed');
    expect(spans).toHaveLength(4);
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(parentSpanId(send)).toBe(spanIdOf(request));
    expect(send.attributes).toEqual({
      'messaging.system': 'nestjs_event_bus',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'order.placed',
      'messaging.message.id': envelope.id,
      'messaging.message.conversation_id': 'conv-1',
    });
    // The envelope carries the send span's W3C context.
    expect(envelope.headers.traceparent).toBe(`00-${traceIdOf(send)}-${spanIdOf(send)}-01`);

    expect(processes.map((s) => s.attributes['nestjs_event_bus.handler']).sort()).toEqual(['OrderListener.audit', 'OrderListener.confirm']);
    for (const process of processes) {
      expect(process.kind).toBe(SpanKind.CONSUMER);
      expect(traceIdOf(process)).toBe(traceIdOf(request));
      expect(parentSpanId(process)).toBe(spanIdOf(send));
      expect(process.links.map((l) => l.context.spanId)).toEqual([spanIdOf(send)]);
      expect(process.status.code).toBe(SpanStatusCode.UNSET);
      expect(process.attributes).toMatchObject({
        'messaging.system': 'nestjs_event_bus',
        'messaging.operation.name': 'process',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'order.placed',
        'messaging.message.id': envelope.id,
        'messaging.message.conversation_id': 'conv-1',
        'code.namespace': 'OrderListener',
        'nestjs_event_bus.attempt': 1,
        'nestjs_event_bus.outcome': 'succeeded',
      });
    }
    expect(processes.find((s) => s.attributes['code.function'] === 'confirm')).toBeDefined();
  });

  it('an event a handler publishes (after an await) is sent under that handler\'s span, in the same trace', async () => {
    @Injectable()
    class Chain {
      constructor(private readonly events: EventPublisher) {}

      @OnEvent('order.placed')
      async reserve() {
        await new Promise((resolve) => setImmediate(resolve));
        this.events.publish('stock.reserved', { id: 1 });
      }

      @OnEvent('stock.reserved')
      ship() {}
    }
    app = await createApp({ providers: [Chain] });

    const placed = app.events.publish('order.placed', { id: 1 });
    await app.bus.drain();

    const spans = (await sdk.spans());
    const [sendPlaced] = spanNamed(spans, 'send order.placed');
    const [reserve] = spanNamed(spans, 'process order.placed');
    const [sendReserved] = spanNamed(spans, 'send stock.reserved');
    const [ship] = spanNamed(spans, 'process stock.reserved');
    expect(parentSpanId(sendPlaced)).toBeUndefined();
    expect(parentSpanId(reserve)).toBe(spanIdOf(sendPlaced));
    expect(parentSpanId(sendReserved)).toBe(spanIdOf(reserve));
    expect(parentSpanId(ship)).toBe(spanIdOf(sendReserved));
    expect(new Set(spans.map(traceIdOf)).size).toBe(1);
    expect(sendReserved.attributes['nestjs_event_bus.causation_id']).toBe(placed.id);
    expect(sendReserved.attributes['messaging.message.conversation_id']).toBe(placed.id);
  });

  it('retries: one process span per attempt; the last one records the dead letter as a span event', async () => {
    let calls = 0;
    @Injectable()
    class Billing {
      @OnEvent('invoice.due', { retry: { attempts: 3 } })
      charge() {
        calls++;
        throw new PaymentDeclinedError(`declined (${calls})`);
      }
    }
    app = await createApp({ providers: [Billing] });

    const report = await app.events.publishAndWait('invoice.due', { amount: 5 });
    expect(report.failed).toHaveLength(1);

    const spans = (await sdk.spans());
    const [send] = spanNamed(spans, 'send invoice.due');
    const attempts = spanNamed(spans, 'process invoice.due');
    expect(attempts.map((s) => [s.attributes['nestjs_event_bus.attempt'], s.attributes['nestjs_event_bus.outcome']])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'dead-lettered'],
    ]);
    for (const [i, attempt] of attempts.entries()) {
      expect(parentSpanId(attempt)).toBe(spanIdOf(send));
      expect(attempt.status).toEqual({ code: SpanStatusCode.ERROR, message: `declined (${i + 1})` });
      expect(attempt.attributes['error.type']).toBe('PaymentDeclinedError');
      const exception = attempt.events.find((e) => e.name === 'exception');
      expect(exception?.attributes).toMatchObject({ 'exception.type': 'PaymentDeclinedError', 'exception.message': `declined (${i + 1})` });
    }
    expect(attempts.slice(0, 2).every((s) => !s.events.some((e) => e.name === 'nestjs_event_bus.dead_lettered'))).toBe(true);
    const deadLetter = attempts[2].events.find((e) => e.name === 'nestjs_event_bus.dead_lettered');
    expect(deadLetter?.attributes).toEqual({
      'nestjs_event_bus.handler': 'Billing.charge',
      'nestjs_event_bus.attempt': 3,
      'error.type': 'PaymentDeclinedError',
    });
  });

  it('a retry that succeeds ends with outcome succeeded; a filtered-out handler ends with outcome filtered', async () => {
    let calls = 0;
    @Injectable()
    class Flaky {
      @OnEvent('sync.requested', { retry: { attempts: 2 } })
      sync() {
        if (++calls === 1) throw 'not yet';
      }

      @OnEvent('sync.requested', { filter: () => false })
      never() {}
    }
    app = await createApp({ providers: [Flaky] });

    await app.events.publishAndWait('sync.requested');

    const attempts = spanNamed((await sdk.spans()), 'process sync.requested', { 'nestjs_event_bus.handler': 'Flaky.sync' });
    expect(attempts.map((s) => s.attributes['nestjs_event_bus.outcome'])).toEqual(['failed', 'succeeded']);
    // A thrown non-Error: error.type _OTHER, the value recorded as the exception message.
    expect(attempts[0].attributes['error.type']).toBe('_OTHER');
    expect(attempts[0].events.find((e) => e.name === 'exception')?.attributes?.['exception.message']).toBe('not yet');
    const [filtered] = spanNamed((await sdk.spans()), 'process sync.requested', { 'nestjs_event_bus.handler': 'Flaky.never' });
    expect(filtered.attributes['nestjs_event_bus.outcome']).toBe('filtered');
    expect(filtered.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('telemetry: false -> no spans and no trace headers, with the provider registered', async () => {
    let handled = 0;
    @Injectable()
    class Listener {
      @OnEvent('order.placed')
      handle() {
        handled++;
      }
    }
    app = await createApp({ providers: [Listener] }, { logger: false, telemetry: false });

    const envelope = app.events.publish('order.placed', { id: 1 });
    await app.bus.drain();

    expect(handled).toBe(1);
    expect(envelope.headers).toEqual({});
    expect((await sdk.spans())).toEqual([]);
  });

  it('(the check above can fail) the same app with telemetry left at its default produces spans', async () => {
    @Injectable()
    class Listener {
      @OnEvent('order.placed')
      handle() {}
    }
    app = await createApp({ providers: [Listener] }, { logger: false });

    const envelope = app.events.publish('order.placed', { id: 1 });
    await app.bus.drain();

    expect(Object.keys(envelope.headers)).toEqual(['traceparent']);
    expect((await sdk.spans()).map((s) => s.name).sort()).toEqual(['process order.placed', 'send order.placed']);
  });

  it('headers given to publish travel on, with the trace context added', async () => {
    app = await createApp({});
    const envelope = app.events.publish('audit.logged', {}, { headers: { tenant: 'acme' } });
    expect(envelope.headers).toEqual({ tenant: 'acme', traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/) });
  });

  it('telemetry must be a boolean: another value fails start-up naming the option', async () => {
    await expect(createApp({}, { logger: false, telemetry: 'on' as unknown as boolean })).rejects.toThrow(
      'telemetry must be true or false',
    );
  });
});

describe('no tracer provider registered (API present)', () => {
  beforeAll(async () => {
    await sdk.uninstall();
  });
  afterAll(() => {
    sdk = installSdk({ metrics: false });
  });

  it('handlers run, nothing is added to the headers', async () => {
    let handled = 0;
    @Injectable()
    class Listener {
      @OnEvent('order.placed')
      handle() {
        handled++;
      }
    }
    app = await createApp({ providers: [Listener] });

    const envelope = app.events.publish('order.placed', { id: 1 });
    await app.bus.drain();

    expect(handled).toBe(1);
    expect(envelope.headers).toEqual({});
  });
});
