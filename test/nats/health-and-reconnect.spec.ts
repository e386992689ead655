import { Injectable, type INestApplication } from '@nestjs/common';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { NatsHealthCheckError, NatsHealthIndicator, NatsJetStreamTransport } from '../../lib/nats/index.js';
import { describeWithNats, eventually, Progress, startApp, uniqueNames } from './support/nats-test-env.js';
import { natsServerBinaryAvailable, PrivateNatsServer } from './support/private-nats-server.js';

const describeNats = await describeWithNats();
const withServerBinary = natsServerBinaryAvailable() ? it : it.skip;
if (!natsServerBinaryAvailable()) process.stderr.write('Skipping the NATS reconnect test: no nats-server binary (set NATS_SERVER_BIN).\n');

@Injectable()
class PingListener {
  readonly handled: string[] = [];
  readonly progress = new Progress();
  @OnEvent('ping')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope.id);
    this.progress.add();
  }
}

describeNats('NATS JetStream transport: health and reconnection', () => {
  let server: PrivateNatsServer | undefined;
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await server?.dispose();
    server = undefined;
  });

  withServerBinary('reports down while the server is away, reconnects when it is back, and loses no event', async () => {
    server = await PrivateNatsServer.start();
    const transport = new NatsJetStreamTransport({ servers: server.url, ...uniqueNames('reconnect'), group: 'pinger', pullExpiresMs: 1000 });
    const health = new NatsHealthIndicator(transport);
    app = await startApp(transport, [PingListener]);
    const events = app.get(EventPublisher);
    const listener = app.get(PingListener);

    await expect(health.isHealthy('nats')).resolves.toMatchObject({ nats: { status: 'up', state: 'connected', group: 'pinger', consuming: true } });
    const before = events.publish('ping', { n: 1 });
    await listener.progress.reach(1);

    await server.stop();
    await eventually(() => health.check('nats').nats.status === 'down');
    const error = await health.isHealthy('nats').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NatsHealthCheckError);
    expect(error).toMatchObject({ isHealthCheckError: true, causes: { nats: { status: 'down', state: 'reconnecting' } } });

    // Published while the server is down: publish() still returns at once; the transport keeps retrying.
    const during = events.publish('ping', { n: 2 });
    await server.restart();
    await eventually(() => health.check('nats').nats.status === 'up');
    const after = events.publish('ping', { n: 3 });

    await listener.progress.reach(3);
    expect(new Set(listener.handled)).toEqual(new Set([before.id, during.id, after.id]));
    expect(listener.handled).toHaveLength(3);

    await app.close();
    app = undefined;
    expect(health.check('nats')).toMatchObject({ nats: { status: 'down', state: 'closed' } });
  }, 60_000);

  it('is down before the transport connects', () => {
    const transport = new NatsJetStreamTransport({ servers: 'nats://127.0.0.1:1', stream: 'UNUSED', group: 'nobody' });
    expect(new NatsHealthIndicator(transport).check()).toMatchObject({ nats: { status: 'down', state: 'idle' } });
  });
});
