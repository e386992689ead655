import { NatsJetStreamTransport, NatsTransportConfigError } from '../../lib/nats/index.js';
import { redeliveryDelay, resolveNatsOptions } from '../../lib/nats/nats-jetstream-transport.options.js';

const base = { servers: 'nats://127.0.0.1:4222', stream: 'EVENTS', group: 'orders-service' };

describe('NatsJetStreamTransport options', () => {
  it('derives subjects and dead-letter names from the stream', () => {
    expect(resolveNatsOptions(base)).toMatchObject({
      servers: ['nats://127.0.0.1:4222'],
      subjectPrefix: 'EVENTS',
      deadLetterStream: 'EVENTS_DEAD_LETTERS',
      deadLetterSubjectPrefix: 'EVENTS_dead_letters',
      ackWaitMs: 30_000,
      maxDeliveries: 5,
    });
  });

  it.each([
    [{ stream: 'my.events' }, /`stream` must be a non-empty name/],
    [{ group: '' }, /`group` must be a non-empty name/],
    [{ servers: [] }, /`servers` must be a URL/],
    [{ subjectPrefix: 'events.*' }, /`subjectPrefix` must be a NATS subject without wildcards/],
    [{ deadLetterSubjectPrefix: 'EVENTS.dead' }, /would land in the event stream/],
    [{ deadLetterStream: 'EVENTS' }, /must differ from `stream`/],
    [{ ackWaitMs: 500 }, /ackWaitMs must be at least 1000/],
    [{ maxDeliveries: 0 }, /`maxDeliveries` must be a positive number/],
    [{ signingKey: 'short' }, /at least 16 bytes/],
    [{ pullExpiresMs: 10 }, /pullExpiresMs must be at least 1000/],
    [{ concurrency: 2.5 }, /`concurrency` must be a whole number \(got 2\.5\); round it/],
    [{ maxAckPending: 0.5 }, /`maxAckPending` must be a whole number/],
    [{ maxDeliveries: 1.5 }, /`maxDeliveries` must be a whole number/],
    [{ maxPendingPublishes: 10.1 }, /`maxPendingPublishes` must be a whole number/],
    [{ maxPayloadBytes: 1024.5 }, /`maxPayloadBytes` must be a whole number/],
  ])('refuses %j with a message that says what to change', (override, message) => {
    expect(() => new NatsJetStreamTransport({ ...base, ...(override as object) })).toThrow(NatsTransportConfigError);
    expect(() => new NatsJetStreamTransport({ ...base, ...(override as object) })).toThrow(message);
  });

  it('fails start-up with a message naming the servers when NATS cannot be reached', async () => {
    const host = { logger: console, subscriptions: () => [], deliver: () => Promise.reject(new Error('unused')), settledHandlers: () => [], restoreEnvelope: () => { throw new Error('unused'); } };
    // A failed start() closes the transport (nothing left open), so each expectation gets its own.
    await expect(new NatsJetStreamTransport({ ...base, servers: 'nats://127.0.0.1:1' }).start(host)).rejects.toThrow(NatsTransportConfigError);
    const transport = new NatsJetStreamTransport({ ...base, servers: 'nats://127.0.0.1:1' });
    await expect(transport.start(host)).rejects.toThrow(/Could not connect to NATS at nats:\/\/127\.0\.0\.1:1/);
    expect(transport.status()).toMatchObject({ state: 'failed' });
    await transport.close();
  });

  it('spaces redeliveries out exponentially, capped', () => {
    const backoff = { initialDelayMs: 100, factor: 3, maxDelayMs: 1000 };
    expect([1, 2, 3, 4].map((delivery) => redeliveryDelay(backoff, delivery))).toEqual([100, 300, 900, 1000]);
  });
});
