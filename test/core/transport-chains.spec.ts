/**
 * What the bus does for transports beyond delivery: a consumed event is acknowledged (its delivery
 * resolves) only once the follow-ups its handlers published were accepted by the broker; events can be
 * kept local with `travel`; `maxQueued` counts events the broker has not accepted yet. A hand-driven
 * transport plays the broker: the test decides when a send is accepted.
 */
import 'reflect-metadata';
import { BackpressureError, InvalidEventError, InvalidModuleOptionsError, type DeliveryReport, type EventEnvelope, type EventTransport, type TransportHost } from '../../lib/index.js';
import { createApp, deferred, type TestApp } from '../support/create-app.js';

class HandDrivenBroker implements EventTransport {
  readonly name = 'hand-driven';
  readonly sent: { envelope: EventEnvelope; accept: () => void; refuse: (error: unknown) => void }[] = [];
  host: TransportHost | undefined;

  prepare(envelope: EventEnvelope): unknown {
    return envelope;
  }

  send(envelope: EventEnvelope): Promise<void> {
    const accepted = deferred();
    this.sent.push({ envelope, accept: () => accepted.resolve(), refuse: accepted.reject });
    return accepted.promise;
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
  }

  async close(): Promise<void> {}

  /** Delivers a consumed event to the local handlers, as a consumer would. */
  consume(name: string, payload: unknown = {}): Promise<DeliveryReport> {
    const envelope = this.host!.restoreEnvelope({ id: `consumed-${Math.random()}`, name, payload, occurredAt: Date.now() });
    return this.host!.deliver(envelope);
  }

  acceptAll(): void {
    for (const send of this.sent.splice(0)) send.accept();
  }
}

const settledWithin = async (promise: Promise<unknown>, turns = 20): Promise<boolean> => {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('transport chains', () => {
  it('holds a consumed event until the follow-ups its handlers published with plain publish() were accepted', async () => {
    const broker = new HandDrivenBroker();
    app = await createApp({}, { logger: false, transport: broker, shutdownTimeoutMs: 100 });
    app.bus.on('order.placed', () => {
      app!.events.publish('stock.reserve', { n: 1 });
      app!.events.publish('payment.request', { n: 1 });
    });
    const delivery = broker.consume('order.placed');
    expect(await settledWithin(delivery)).toBe(false);
    expect(broker.sent.map((s) => s.envelope.name)).toEqual(['stock.reserve', 'payment.request']);
    broker.sent[0].accept();
    expect(await settledWithin(delivery)).toBe(false);
    broker.sent[1].accept();
    await expect(delivery).resolves.toMatchObject({ handled: 1, failed: [] });
  });

  it('holds it for follow-ups published after an await inside the handler, too', async () => {
    const broker = new HandDrivenBroker();
    app = await createApp({}, { logger: false, transport: broker, shutdownTimeoutMs: 100 });
    app.bus.on('order.placed', async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      app!.events.publish('stock.reserve');
    });
    const delivery = broker.consume('order.placed');
    while (broker.sent.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await settledWithin(delivery)).toBe(false);
    broker.acceptAll();
    await expect(delivery).resolves.toMatchObject({ handled: 1 });
  });

  it('fails the consumed event (not acknowledged, so it comes back) when a follow-up could not be sent', async () => {
    const broker = new HandDrivenBroker();
    app = await createApp({}, { logger: false, transport: broker, shutdownTimeoutMs: 100 });
    app.bus.on('order.placed', () => void app!.events.publish('stock.reserve'));
    const delivery = broker.consume('order.placed');
    while (broker.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
    broker.sent[0].refuse(new Error('broker refused'));
    await expect(delivery).rejects.toThrow('broker refused');
  });

  it('keeps events not listed in `travel` in the process, and holds the chain for what their handlers send', async () => {
    const broker = new HandDrivenBroker();
    app = await createApp({}, { logger: false, transport: broker, travel: ['order.**'], shutdownTimeoutMs: 100 });
    const local: string[] = [];
    app.bus.on('audit.local', (payload: { n: number }) => {
      local.push(`audit ${payload.n}`);
      app!.events.publish('order.audited', payload);
    });
    app.bus.on('order.placed', () => void app!.events.publish('audit.local', { n: 2 }));

    // A local event: handled here, publishAndWait waits for its handler, nothing reaches the broker but its follow-up.
    const report = await app.events.publishAndWait('audit.local', { n: 1 });
    expect(report.handled).toBe(1);
    expect(local).toEqual(['audit 1']);
    expect(broker.sent.map((s) => s.envelope.name)).toEqual(['order.audited']);
    broker.acceptAll();

    // A travelling event goes to the broker; publishAndWait resolves once the broker accepted it.
    const travelling = app.events.publishAndWait('order.placed', {});
    expect(await settledWithin(travelling)).toBe(false);
    expect(broker.sent.map((s) => s.envelope.name)).toEqual(['order.placed']);
    broker.acceptAll();
    await expect(travelling).resolves.toMatchObject({ handled: 0 });

    // Consumed: its local follow-up's own travelling follow-up holds the acknowledgement.
    const delivery = broker.consume('order.placed');
    while (broker.sent.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(local).toEqual(['audit 1', 'audit 2']);
    expect(await settledWithin(delivery)).toBe(false);
    broker.acceptAll();
    await expect(delivery).resolves.toMatchObject({ handled: 1 });
  });

  it('refuses `travel` without a transport', async () => {
    await expect(createApp({}, { logger: false, travel: ['order.*'] })).rejects.toThrow(InvalidModuleOptionsError);
  });

  it('counts events the broker has not accepted yet toward maxQueued (a broker outage cannot buffer without bound)', async () => {
    const broker = new HandDrivenBroker();
    app = await createApp({}, { logger: false, transport: broker, maxQueued: 100, shutdownTimeoutMs: 100 });
    for (let i = 0; i < 100; i++) app.events.publish('order.placed', { i });
    expect(() => app!.events.publish('order.placed', { i: 100 })).toThrow(BackpressureError);
    broker.acceptAll();
    await new Promise((resolve) => setImmediate(resolve));
    expect(() => app!.events.publish('order.placed', { i: 101 })).not.toThrow();
    broker.acceptAll();
  });
});

describe('serializablePayloads', () => {
  it('refuses in-process what a transport could not carry, naming the path, when asked to', async () => {
    app = await createApp({}, { logger: false, serializablePayloads: true });
    const circular: Record<string, unknown> = { id: 1 };
    circular.self = circular;
    expect(() => app!.events.publish('order.placed', { items: [{ price: 10n }] })).toThrow(/payload\.items\[0\]\.price/);
    expect(() => app!.events.publish('order.placed', circular)).toThrow(/payload\.self.*circular/);
    expect(() => app!.events.publish('order.placed', { note: undefined })).toThrow(InvalidEventError);
    await expect(app.events.publishAndWait('order.placed', { at: () => 1 })).rejects.toThrow(/payload\.at/);
    await expect(app.events.publishAndWait('order.placed', { id: 1, at: new Date() })).resolves.toMatchObject({ handled: 0 });
  });

  it('accepts such payloads in-process by default (nothing has to travel)', async () => {
    app = await createApp({}, { logger: false });
    expect(() => app!.events.publish('order.placed', { amount: 10n })).not.toThrow();
  });
});
