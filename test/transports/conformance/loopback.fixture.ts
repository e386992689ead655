import {
  InvalidEventError,
  type EventEnvelope,
  type EventTransport,
  type TransportHost,
} from '../../../lib/index.js';
import { FieldEnvelopeCodec } from '../../../lib/transport/field-envelope-codec.js';
import { MessageSigner } from '../../../lib/transport/message-signer.js';
import { redeliveryDelay } from '../../../lib/transport/transport-options.js';
import { restoreReceived } from '../../../lib/transport/wire-envelope.js';
import type { PoisonMessageError } from '../../../lib/transport/poison-message.error.js';
import type { ConformanceOptions, DeadLetterView, TransportFixture, TransportNamespace } from './transport-fixture.js';

const WRONG_KEY = 'a-key-nobody-configured-000';

/** An in-memory broker: fan-out to groups, round robin within one, redelivery with backoff, dead letters. */
class LoopbackBroker {
  readonly groups = new Map<string, LoopbackTransport[]>();
  readonly deadLetters: DeadLetterView[] = [];
  private turn = 0;

  publish(fields: string[]): void {
    for (const members of this.groups.values()) {
      const live = members.filter((m) => m.running);
      if (live.length !== 0) void live[this.turn++ % live.length].receive(fields, 1);
    }
  }
}

class LoopbackTransport implements EventTransport {
  readonly name = 'loopback';
  running = false;
  private host: TransportHost | undefined;
  private readonly codec: FieldEnvelopeCodec;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly broker: LoopbackBroker,
    private readonly group: string,
    private readonly options: ConformanceOptions,
  ) {
    const signer = options.signingKey === undefined ? undefined : new MessageSigner(Buffer.from(options.signingKey));
    this.codec = new FieldEnvelopeCodec('loopback', 'loopback', 1024 * 1024, signer);
  }

  prepare(envelope: EventEnvelope): string[] {
    return this.codec.encode(envelope);
  }

  async send(_envelope: EventEnvelope, prepared: unknown): Promise<void> {
    if (!Array.isArray(prepared)) throw new InvalidEventError('not prepared by this transport');
    this.broker.publish(prepared as string[]);
  }

  async start(host: TransportHost): Promise<void> {
    this.host = host;
    this.running = true;
    const members = this.broker.groups.get(this.group) ?? [];
    members.push(this);
    this.broker.groups.set(this.group, members);
  }

  receive(fields: string[], delivery: number, skipHandlers?: ReadonlySet<string>): Promise<void> {
    const work = this.handle(fields, delivery, skipHandlers);
    this.inFlight.add(work);
    return work.finally(() => this.inFlight.delete(work));
  }

  private async handle(fields: string[], delivery: number, skipHandlers?: ReadonlySet<string>): Promise<void> {
    const host = this.host!;
    const max = this.options.maxDeliveries ?? 5;
    let envelope: EventEnvelope;
    try {
      envelope = restoreReceived(host, () => this.codec.decode(fields));
    } catch (error) {
      this.broker.deadLetters.push({ reason: (error as PoisonMessageError).reason, deliveries: delivery, group: this.group });
      return;
    }
    const report = await host.deliver(envelope, { skipHandlers, lastDelivery: delivery >= max });
    if (report.failed.length === 0) return;
    if (delivery >= max) {
      for (const f of report.failed) this.broker.deadLetters.push({ reason: 'handler-failed', handler: f.handler, deliveries: delivery, eventId: envelope.id, group: this.group });
      return;
    }
    const settled = new Set(host.settledHandlers(envelope, report));
    const wait = redeliveryDelay({ initialDelayMs: this.options.backoffMs ?? 50, factor: 2, maxDelayMs: 1000 }, delivery);
    await new Promise((resolve) => setTimeout(resolve, wait));
    if (this.running) await this.receive(fields, delivery + 1, settled);
  }

  async close(): Promise<void> {
    this.running = false;
    await Promise.all(this.inFlight);
  }
}

export const loopbackFixture: TransportFixture = {
  name: 'loopback',
  describe: async () => describe,
  supports: { childProcesses: false, brokerRestart: false, durableGroups: false },
  namespace(): TransportNamespace {
    const broker = new LoopbackBroker();
    return {
      transport: (group, options = {}) => new LoopbackTransport(broker, group, options),
      async injectRaw(kind) {
        const envelope = { id: `raw-${kind}`, name: 'conformance.job', payload: { raw: kind }, occurredAt: new Date(), correlationId: `raw-${kind}`, attempt: 1, headers: {} } as unknown as EventEnvelope;
        if (kind === 'garbage') broker.publish(['nonsense', 'x']);
        else if (kind === 'unsigned') broker.publish(new FieldEnvelopeCodec('loopback', 'loopback', 1 << 20, undefined).encode(envelope));
        else broker.publish(new FieldEnvelopeCodec('loopback', 'loopback', 1 << 20, new MessageSigner(Buffer.from(WRONG_KEY))).encode(envelope));
      },
      deadLetters: async () => broker.deadLetters,
      workerEnv: () => {
        throw new Error('the loopback has no broker a child process could reach');
      },
      dispose: async () => undefined,
    };
  },
};
