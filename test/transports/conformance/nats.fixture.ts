import { headers as natsHeaders } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { DEAD_LETTER_HEADER, NatsJetStreamTransport, type NatsJetStreamTransportOptions } from '../../../lib/nats/index.js';
import { deleteStreams, describeWithNats, NATS_URL, rawConnection, storedMessages, uniqueNames } from '../../nats/support/nats-test-env.js';
import { PrivateNatsServer } from '../../nats/support/private-nats-server.js';
import { sendDirect, WRONG_KEY } from './raw-envelope.js';
import type { ConformanceOptions, TransportFixture } from './transport-fixture.js';

export function natsOptions(names: ReturnType<typeof uniqueNames>, group: string, o: ConformanceOptions = {}): NatsJetStreamTransportOptions {
  return {
    servers: o.url ?? NATS_URL,
    stream: names.stream,
    subjectPrefix: names.subjectPrefix,
    group,
    ...(o.signingKey === undefined ? {} : { signingKey: o.signingKey }),
    ...(o.maxDeliveries === undefined ? {} : { maxDeliveries: o.maxDeliveries }),
    backoff: { initialDelayMs: o.backoffMs ?? 50, maxDelayMs: 1000 },
    ...(o.fastTakeover ? { ackWaitMs: 1500 } : {}),
    ...(o.closeTimeoutMs === undefined ? {} : { closeTimeoutMs: o.closeTimeoutMs }),
  };
}

export const natsFixture: TransportFixture = {
  name: 'nats',
  describe: () => describeWithNats(),
  supports: { childProcesses: true, brokerRestart: true, durableGroups: true },
  namespace(label) {
    const names = uniqueNames(label.replace(/[^A-Za-z0-9]/g, ''));
    // Private servers are disposed with their data; only the shared server needs cleaning.
    const urls = [NATS_URL];
    return {
      transport: (group, o = {}) => {
        return new NatsJetStreamTransport(natsOptions(names, group, o));
      },
      async injectRaw(kind, url = NATS_URL) {
        if (kind === 'garbage') {
          const nc = await rawConnection(url);
          const h = natsHeaders();
          h.set('Nats-Msg-Id', `garbage-${Date.now()}`);
          await jetstream(nc).publish(`${names.subjectPrefix}.conformance.job`, 'not json {', { headers: h });
          await nc.close();
          return;
        }
        await sendDirect(new NatsJetStreamTransport(natsOptions(names, 'raw', { url, ...(kind === 'forged' ? { signingKey: WRONG_KEY } : {}) })), kind);
      },
      async deadLetters(url = NATS_URL) {
        const nc = await rawConnection(url);
        try {
          return (await storedMessages(nc, names.deadLetterStream).catch(() => [])).map((m) => ({
            reason: m.header.get(DEAD_LETTER_HEADER.reason),
            ...(m.header.get(DEAD_LETTER_HEADER.handler) === '' ? {} : { handler: m.header.get(DEAD_LETTER_HEADER.handler) }),
            deliveries: Number(m.header.get(DEAD_LETTER_HEADER.deliveries)),
            ...(m.header.get(DEAD_LETTER_HEADER.originalId) === '' ? {} : { eventId: m.header.get(DEAD_LETTER_HEADER.originalId) }),
            group: m.header.get(DEAD_LETTER_HEADER.group),
          }));
        } finally {
          await nc.close();
        }
      },
      workerEnv: (group, o = {}) => ({ TRANSPORT: 'nats', OPTIONS: JSON.stringify(natsOptions(names, group, o)) }),
      async dispose() {
        for (const url of urls) {
          const nc = await rawConnection(url).catch(() => undefined);
          if (nc === undefined) continue;
          await deleteStreams(nc, names.stream, names.deadLetterStream);
          await nc.close();
        }
      },
    };
  },
  async privateBroker() {
    const server = await PrivateNatsServer.start();
    return {
      url: server.url,
      restart: async () => {
        await server.stop();
        await server.restart();
      },
      dispose: () => server.dispose(),
    };
  },
};
