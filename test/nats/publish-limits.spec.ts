// Issue 13 items 6 and 7: what publish refuses (ids the client would change, headers over max_payload,
// more than maxBufferedPublishes while the server is away), long names, and re-sends after an outage
// (prompt, in publish order, bounded by the duplicate window).
import { Injectable } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import { BackpressureError, EventPublisher, InvalidEventError, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { NatsHealthIndicator, PublishAbortedError } from '../../lib/nats/index.js';
import { ReliablePublisher } from '../../lib/nats/reliable-publisher.js';
import { describeWithNats, Progress, startApp, storedMessages, streamMessageCount, transport, uniqueNames } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';
import { natsServerBinaryAvailable, PrivateNatsServer } from './support/private-nats-server.js';

const describeNats = await describeWithNats();
const withServerBinary = natsServerBinaryAvailable() ? it : it.skip;

const LONG_NAME = '注文'.repeat(600);

@Injectable()
class LongNameListener {
  readonly handled: EventEnvelope[] = [];
  readonly progress = new Progress();
  @OnEvent(LONG_NAME)
  onLong(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
  @OnEvent('order.placed')
  onShort(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
}

function message(subject: string, id: string) {
  const h = headers();
  h.append('Nats-Msg-Id', id);
  return { subject, headers: h, body: JSON.stringify({ id }) };
}

describeNats('NATS JetStream transport: publish limits', () => {
  const suite = setUpNatsSuite('limits');

  it('carries a name far beyond the server control-line limit under a bounded subject; later publishes still flow', async () => {
    const n = suite.names();
    const t = transport(n, 'orders');
    const app = await suite.startApp(t, [LongNameListener]);
    const events = app.get(EventPublisher);
    await events.publishAndWait(LONG_NAME, { n: 1 });
    await events.publishAndWait('order.placed', { n: 2 });
    await app.get(LongNameListener).progress.reach(2);
    expect(app.get(LongNameListener).handled.map((e) => e.name)).toEqual([LONG_NAME, 'order.placed']);
    const [stored] = await storedMessages(suite.nc, n.stream);
    expect(stored.subject.length).toBeLessThanOrEqual(n.subjectPrefix!.length + 50);
    expect(new NatsHealthIndicator(t).check().nats.status).toBe('up');
  });

  // The bus refuses these for every transport (the NATS client trims header values); checked here over NATS.
  it('refuses an event id with leading or trailing whitespace (the client would trim it)', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders'), []);
    const events = app.get(EventPublisher);
    for (const id of [' order-1', 'order-1 ', '\torder-1']) {
      expect(() => events.publish('order.placed', {}, { id })).toThrow(InvalidEventError);
      await expect(events.publishAndWait('order.placed', {}, { id })).rejects.toThrow(/leading or trailing white space/);
    }
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(0);
  });

  it("counts the headers against the server's max_payload, for publish and publishAndWait alike", async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'orders', { maxPayloadBytes: 4 * 1024 * 1024 }), []);
    const events = app.get(EventPublisher);
    const maxPayload = suite.nc.info!.max_payload;
    // The payload alone fits; with the headers it does not.
    const payload = 'x'.repeat(maxPayload - 200);
    const options = { headers: { note: 'y'.repeat(1000) } };
    expect(() => events.publish('order.placed', payload, options)).toThrow(InvalidEventError);
    await expect(events.publishAndWait('order.placed', payload, options)).rejects.toThrow(/headers .* exceed the server's max_payload/);
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(0);
  });

  withServerBinary(
    'refuses publishes beyond maxBufferedPublishes while the server is down, then stores the accepted ones in publish order once it is back',
    async () => {
      const server = await PrivateNatsServer.start();
      try {
        const n = uniqueNames('backpressure');
        const t = transport(n, 'orders', { servers: server.url, maxPendingPublishes: 8, maxBufferedPublishes: 50, connectionOptions: { reconnectTimeWait: 100 } });
        const app = await startApp(t, []);
        const events = app.get(EventPublisher);
        await events.publishAndWait('order.placed', { n: -1 });
        await server.stop();
        const accepted: string[] = [];
        let refused: unknown;
        for (let i = 0; i < 1000 && refused === undefined; i++) {
          try {
            accepted.push(events.publish('order.placed', { i }).id);
          } catch (error) {
            refused = error;
          }
        }
        expect(refused).toBeInstanceOf(BackpressureError);
        expect(String(refused)).toMatch(/maxBufferedPublishes/);
        expect(accepted).toHaveLength(50);
        await expect(events.publishAndWait('order.placed', { late: true })).rejects.toBeInstanceOf(BackpressureError);

        await server.restart();
        await app.close(); // waits for every accepted publish to be acknowledged
        const nc = await connect({ servers: server.url });
        try {
          const stored = (await storedMessages(nc, n.stream)).map((m) => m.header.get('Nats-Msg-Id'));
          expect(stored.slice(1)).toEqual(accepted);
        } finally {
          await nc.close();
        }
      } finally {
        await server.dispose();
      }
    },
    60_000,
  );

  withServerBinary('re-sends what waits for an acknowledgement as soon as the connection is back, not after the ack timeout', async () => {
    const server = await PrivateNatsServer.start();
    const nc = await connect({ servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const tenMinutes = 10 * 60 * 1000;
    const publisher = new ReliablePublisher(() => Promise.resolve(nc), 8, () => undefined, tenMinutes);
    try {
      const { stream, subjectPrefix } = uniqueNames('prompt');
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${subjectPrefix}.>`] });
      await publisher.publish(message(`${subjectPrefix}.a`, 'before'));
      await server.stop();
      const during = [publisher.publish(message(`${subjectPrefix}.a`, 'during-1')), publisher.publish(message(`${subjectPrefix}.a`, 'during-2'))];
      await server.restart();
      // With a ten-minute acknowledgement timeout, these land within the test's timeout only if re-sent on reconnect.
      await Promise.all(during);
      expect((await storedMessages(nc, stream)).map((m) => m.header.get('Nats-Msg-Id'))).toEqual(['before', 'during-1', 'during-2']);
    } finally {
      publisher.stop('test over');
      await nc.close();
      await server.dispose();
    }
  }, 30_000);

  it("stops re-sending before the stream's duplicate window ends (a later copy could be stored twice)", async () => {
    const publisher = new ReliablePublisher(() => Promise.resolve(suite.nc), 8, () => undefined, 100);
    publisher.boundResends(500);
    // No stream captures this subject: every attempt fails and is retried, until the window bound.
    const { subjectPrefix } = uniqueNames('window');
    await expect(publisher.publish(message(`${subjectPrefix}.a`, 'w-1'))).rejects.toThrow(PublishAbortedError);
    await expect(publisher.publish(message(`${subjectPrefix}.a`, 'w-2'))).rejects.toThrow(/duplicate_window/);
    publisher.stop('test over');
  });
});
