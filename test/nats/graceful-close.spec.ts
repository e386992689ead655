import { Injectable } from '@nestjs/common';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import type { NatsJetStreamTransport } from '../../lib/nats/index.js';
import {
  consumerIsIdle,
  deferred,
  describeWithNats,
  eventually,
  Progress,
  startApp,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';
import { natsServerBinaryAvailable, PrivateNatsServer } from './support/private-nats-server.js';
import { connect } from '@nats-io/transport-node';
import { storedMessages, uniqueNames } from './support/nats-test-env.js';

const withServerBinary = natsServerBinaryAvailable() ? it : it.skip;

/** Publishes a follow-up, then takes 3 s (far over the handling close timeout of its test). */
@Injectable()
class ForwardingListener {
  readonly started = new Progress();
  constructor(private readonly events: EventPublisher) {}
  @OnEvent('mail.send')
  async handle() {
    this.events.publish('mail.sent', {});
    this.started.add();
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

const describeNats = await describeWithNats();

/** Holds every event until `gate` opens. */
function gatedListener(gate: Promise<void>) {
  @Injectable()
  class MailListener {
    readonly started = new Progress();
    readonly handled: string[] = [];
    @OnEvent('mail.send')
    async handle(_payload: unknown, envelope: EventEnvelope) {
      this.started.add();
      await gate;
      this.handled.push(envelope.id);
    }
  }
  return MailListener;
}

@Injectable()
class PromptListener {
  readonly handled: string[] = [];
  readonly progress = new Progress();
  @OnEvent('mail.send')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope.id);
    this.progress.add();
  }
}

describeNats('NATS JetStream transport: graceful shutdown', () => {
  const suite = setUpNatsSuite('close');

  it('finishes in-flight messages, releases pulled ones, and loses none', async () => {
    const n = suite.names();
    const gate = deferred();
    const Mail = gatedListener(gate.promise);
    const closingTransport = transport(n, 'mailer', { concurrency: 4 });
    const closing = await startApp(closingTransport, [Mail]);
    const count = 20;
    const ids = new Set<string>();
    for (let i = 0; i < count; i++) ids.add(closing.get(EventPublisher).publish('mail.send', { i }).id);
    await closing.get(Mail).started.reach(4);

    const closed = closing.close();
    await eventually(() => closingTransport.status().state === 'closing');
    gate.resolve();
    await closed;

    const finishedBeforeClose = closing.get(Mail).handled;
    expect(finishedBeforeClose).toHaveLength(4);
    expect(closingTransport.status()).toMatchObject({ state: 'closed', inFlight: 0, pendingPublishes: 0 });

    const survivor = await suite.startApp(transport(n, 'mailer'), [PromptListener]);
    await survivor.get(PromptListener).progress.reach(count - 4);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'mailer'));
    const all = [...finishedBeforeClose, ...survivor.get(PromptListener).handled];
    expect(all).toHaveLength(count);
    expect(new Set(all)).toEqual(ids);
  });

  it('releases messages still running at closeTimeoutMs to another instance', async () => {
    const n = suite.names();
    const never = new Promise<void>(() => undefined);
    const Mail = gatedListener(never);
    const stuckTransport: NatsJetStreamTransport = transport(n, 'mailer', { concurrency: 2, closeTimeoutMs: 300 });
    const stuck = await startApp(stuckTransport, [Mail], { shutdownTimeoutMs: 2000 });
    const ids = new Set([0, 1, 2].map((i) => stuck.get(EventPublisher).publish('mail.send', { i }).id));
    await stuck.get(Mail).started.reach(2);
    await stuck.close();

    const survivor = await suite.startApp(transport(n, 'mailer'), [PromptListener]);
    await survivor.get(PromptListener).progress.reach(3);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'mailer'));
    expect(new Set(survivor.get(PromptListener).handled)).toEqual(ids);
    expect(stuck.get(Mail).handled).toHaveLength(0);
  });

  withServerBinary('gives in-flight messages handlingCloseTimeoutMs, and publishes still waiting publishFlushTimeoutMs of their own', async () => {
    const server = await PrivateNatsServer.start();
    try {
      const n = uniqueNames('closeorder');
      const t = transport(n, 'mailer', {
        servers: server.url,
        handlingCloseTimeoutMs: 200,
        publishFlushTimeoutMs: 20_000,
        connectionOptions: { reconnectTimeWait: 100 },
      });
      const app = await startApp(t, [ForwardingListener], { shutdownTimeoutMs: 30_000 });
      await app.get(EventPublisher).publishAndWait('mail.send', {});
      await app.get(ForwardingListener).started.reach(1);
      // The follow-up cannot be acknowledged while the server is away.
      await server.stop();
      const closed = app.close();
      // Long past the handling timeout the close still waits for the follow-up; the server comes back.
      await eventually(() => t.status().state === 'closing');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await server.restart();
      await closed;
      const nc = await connect({ servers: server.url });
      try {
        expect((await storedMessages(nc, n.stream)).map((m) => m.subject)).toEqual([`${n.subjectPrefix}.mail.send`, `${n.subjectPrefix}.mail.sent`]);
      } finally {
        await nc.close();
      }
    } finally {
      await server.dispose();
    }
  }, 60_000);
});
