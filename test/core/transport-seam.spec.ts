/**
 * The transport seam, exercised by a loopback transport that hands every sent envelope straight back to
 * the bus (no broker involved: the NATS transport's own tests use the real server). It plays a broker
 * that redelivers a failed event up to `maxDeliveries` times, as JetStream does.
 */
import 'reflect-metadata';
import {
  Event,
  InvalidEventError,
  type DeliveryReport,
  type EventEnvelope,
  type EventTransport,
  type HandlerFailure,
  type TransportHost,
} from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';

class LoopbackTransport implements EventTransport {
  readonly name = 'loopback';
  readonly reports: DeliveryReport[] = [];
  private host: TransportHost | undefined;

  constructor(private readonly maxDeliveries: number) {}

  prepare(envelope: EventEnvelope): string {
    const body = JSON.stringify(envelope.payload);
    if (body === undefined) throw new InvalidEventError(`"${String(envelope.name)}" has a payload JSON cannot carry.`);
    return body;
  }

  async send(envelope: EventEnvelope, prepared: unknown): Promise<void> {
    const host = this.host!;
    const received = host.restoreEnvelope({
      id: envelope.id,
      name: String(envelope.name),
      payload: JSON.parse(prepared as string),
      occurredAt: envelope.occurredAt.getTime(),
    });
    let skipHandlers: ReadonlySet<string> | undefined;
    for (let delivery = 1; delivery <= this.maxDeliveries; delivery++) {
      const report = await host.deliver(received, { skipHandlers, lastDelivery: delivery === this.maxDeliveries });
      this.reports.push(report);
      if (report.failed.length === 0) return;
      skipHandlers = new Set(host.settledHandlers(received, report));
    }
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
  }

  async close(): Promise<void> {}
}

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('transport seam', () => {
  it('dead-letters only on the last delivery, and does not re-run handlers that already succeeded', async () => {
    const transport = new LoopbackTransport(3);
    app = await createApp({}, { logger: false, transport, retry: { attempts: 2 } });
    const failures: HandlerFailure[] = [];
    const deadLetters: HandlerFailure[] = [];
    app.bus.errors$.subscribe((f) => failures.push(f));
    app.bus.deadLetters$.subscribe((f) => deadLetters.push(f));
    let healthyRuns = 0;
    let brokenRuns = 0;
    app.bus.on('order.placed', function healthy() {
      healthyRuns++;
    });
    app.bus.on('order.placed', function broken() {
      brokenRuns++;
      throw new Error('still broken');
    });

    await app.events.publishAndWait('order.placed', { id: 1 });

    expect(healthyRuns).toBe(1);
    expect(brokenRuns).toBe(6); // 3 deliveries × 2 in-process attempts
    expect(failures.map((f) => f.final)).toEqual([false, false, false, false, false, true]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]).toMatchObject({ handler: 'broken', attempt: 2, final: true });
    expect(transport.reports.map((r) => [r.handled, r.failed.length])).toEqual([
      [1, 1],
      [0, 1],
      [0, 1],
    ]);
  });

  it('revives class events received from the transport, even when a field shares the name of a getter', async () => {
    @Event('order.totalled')
    class OrderTotalled {
      constructor(
        readonly lines: number[],
        readonly total: number,
      ) {}
      get count(): number {
        return this.lines.length;
      }
    }
    app = await createApp({}, { logger: false, transport: new LoopbackTransport(1) });
    const received: unknown[] = [];
    app.bus.on(OrderTotalled, (event: OrderTotalled) => void received.push(event));
    // A plain-object wire payload whose `count` field collides with the class's getter.
    await app.events.publishAndWait('order.totalled', { lines: [1, 2], total: 3, count: 99 });
    await app.events.publishAndWait(new OrderTotalled([4], 4));
    expect(received).toHaveLength(2);
    expect(received[0]).toBeInstanceOf(OrderTotalled);
    expect(received[0]).toMatchObject({ lines: [1, 2], total: 3, count: 99 });
    expect((received[1] as OrderTotalled).count).toBe(1);
  });

  it('refuses at publish what the transport cannot carry', async () => {
    app = await createApp({}, { logger: false, transport: new LoopbackTransport(1) });
    expect(() => app!.events.publish('bad', () => 'a function is not JSON')).toThrow(InvalidEventError);
    await expect(app.events.publishAndWait('bad', undefined)).rejects.toThrow(InvalidEventError);
  });
});

describe('class-event revival without a class subscription', () => {
  it('gives a handler subscribed by name an instance of the @Event class declared in this process', async () => {
    @Event('invoice.issued')
    class InvoiceIssued {
      constructor(readonly total: number) {}
      get withTax(): number {
        return this.total * 2;
      }
    }
    app = await createApp({}, { logger: false, transport: new LoopbackTransport(1) });
    const received: unknown[] = [];
    app.bus.on('invoice.issued', (event: unknown) => void received.push(event));
    await app.events.publishAndWait('invoice.issued', { total: 5 });
    expect(received[0]).toBeInstanceOf(InvoiceIssued);
    expect((received[0] as InvoiceIssued).withTax).toBe(10);
  });
});
