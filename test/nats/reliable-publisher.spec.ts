import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { PublishAbortedError, PublishRefusedError, ReliablePublisher } from '../../lib/nats/reliable-publisher.js';
import { deferred, describeWithNats, streamMessageCount, uniqueNames } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';
import { natsServerBinaryAvailable, PrivateNatsServer } from './support/private-nats-server.js';

const describeNats = await describeWithNats();
const withServerBinary = natsServerBinaryAvailable() ? it : it.skip;

function message(subject: string, id: string) {
  const h = headers();
  h.append('Nats-Msg-Id', id);
  return { subject, headers: h, body: JSON.stringify({ id }) };
}

describeNats('ReliablePublisher (JetStream asynchronous publish with retries)', () => {
  const suite = setUpNatsSuite('pub');

  it('keeps retrying while no stream captures the subject, and lands once the stream exists', async () => {
    const { stream, subjectPrefix } = suite.names('pubretry');
    const warned = deferred<string>();
    const logger = { log: () => undefined, error: () => undefined, warn: (message: string) => warned.resolve(message) };
    const publisher = new ReliablePublisher(() => Promise.resolve(suite.nc), 8, () => logger);
    const sent = publisher.publish(message(`${subjectPrefix}.a`, 'm-1'));
    let settled = false;
    void sent.then(() => (settled = true));
    // The server answers "no responders" at once: the first failure is logged, and the publish waits.
    expect(await warned.promise).toMatch(/no stream answered.*retrying/);
    expect(settled).toBe(false);
    expect(publisher.pending).toBe(1);

    const jsm = await jetstreamManager(suite.nc);
    await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] });
    await sent;
    expect(await streamMessageCount(suite.nc, stream)).toBe(1);
    await publisher.whenIdle();
    expect(publisher.pending).toBe(0);
    publisher.stop('test over');
  });

  it('reports an explicit refusal after a few tries, and de-duplicates by message id', async () => {
    const { stream, subjectPrefix } = suite.names('pubrefuse');
    const jsm = await jetstreamManager(suite.nc);
    await jsm.streams.add({ name: stream, subjects: [`${subjectPrefix}.>`], max_msgs: 1, discard: DiscardPolicy.New });
    const publisher = new ReliablePublisher(() => Promise.resolve(suite.nc), 8, () => undefined);

    await publisher.publish(message(`${subjectPrefix}.a`, 'first'));
    await publisher.publish(message(`${subjectPrefix}.a`, 'first')); // duplicate: acknowledged, not stored
    await expect(publisher.publish(message(`${subjectPrefix}.a`, 'second'))).rejects.toBeInstanceOf(PublishRefusedError);
    expect(await streamMessageCount(suite.nc, stream)).toBe(1);
    publisher.stop('test over');
  });

  it('stop() rejects what is still waiting and leaves nothing pending', async () => {
    const { subjectPrefix } = suite.names('pubstop');
    const publisher = new ReliablePublisher(() => Promise.resolve(suite.nc), 1, () => undefined);
    // No stream: both keep failing; the second waits in the queue behind the window of 1.
    const first = publisher.publish(message(`${subjectPrefix}.a`, 'x'));
    const second = publisher.publish(message(`${subjectPrefix}.a`, 'y'));
    expect(publisher.pending).toBe(2);
    expect(publisher.stop('closing')).toBe(2);
    await expect(first).rejects.toBeInstanceOf(PublishAbortedError);
    await expect(second).rejects.toBeInstanceOf(PublishAbortedError);
    await publisher.whenIdle();
    expect(publisher.pending).toBe(0);
    await expect(publisher.publish(message(`${subjectPrefix}.a`, 'z'))).rejects.toThrow('closing');
  });

  withServerBinary('holds what is published while disconnected (the client would discard it on reconnect), and lands it once reconnected', async () => {
    const server = await PrivateNatsServer.start();
    const nc = await connect({ servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    let publisher: ReliablePublisher | undefined;
    try {
      const { stream, subjectPrefix } = uniqueNames('puboutage');
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] });
      const ackTimeoutMs = 100;
      publisher = new ReliablePublisher(() => Promise.resolve(nc), 8, () => undefined, ackTimeoutMs);
      await publisher.publish(message(`${subjectPrefix}.a`, 'before'));

      const disconnected = deferred();
      void (async () => {
        for await (const status of nc.status()) if (status.type === 'disconnect') disconnected.resolve();
      })();
      await server.stop();
      await disconnected.promise;
      const sentBefore = nc.stats().outMsgs;
      const during = publisher.publish(message(`${subjectPrefix}.a`, 'during'));
      // Many ack timeouts pass while the server is away. Nothing goes to the client's outbound buffer (it
      // grows without bound during an outage, and the client discards it when it reconnects).
      await new Promise((resolve) => setTimeout(resolve, 10 * ackTimeoutMs));
      expect(nc.stats().outMsgs - sentBefore).toBe(0);

      await server.restart();
      await during;
      expect(await streamMessageCount(nc, stream)).toBe(2);
    } finally {
      publisher?.stop('test over');
      await nc.close();
      await server.dispose();
    }
  }, 30_000);
});
