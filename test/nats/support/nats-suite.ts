import type { INestApplication } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/transport-node';
import { deleteStreams, rawConnection, startApp, uniqueNames } from './nats-test-env.js';

export interface NatsSuite {
  /** A plain client connection for the tests' own checks (stream contents, raw publishes); open from beforeAll to afterAll. */
  readonly nc: NatsConnection;
  /** Fresh stream, subject and dead-letter names (`label` defaults to the suite's); both streams are deleted after the suite. */
  names(label?: string): ReturnType<typeof uniqueNames>;
  /** `startApp`, and the app is closed after the current test. */
  startApp(...args: Parameters<typeof startApp>): Promise<INestApplication>;
}

/**
 * The lifecycle every server-backed NATS suite shares, registered as Jest hooks of the enclosing
 * `describe`: a raw connection opened in beforeAll, the apps started through the suite closed after
 * each test, and the streams of every `names()` deleted (then the connection closed) after the suite.
 */
export function setUpNatsSuite(label: string): NatsSuite {
  let nc: NatsConnection | undefined;
  const apps: INestApplication[] = [];
  const streams: string[] = [];

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  afterAll(async () => {
    if (nc === undefined) return;
    await deleteStreams(nc, ...streams);
    await nc.close();
  });

  return {
    get nc(): NatsConnection {
      if (nc === undefined) throw new Error('setUpNatsSuite: the connection opens in beforeAll; use `nc` inside tests and hooks');
      return nc;
    },
    names(name = label) {
      const n = uniqueNames(name);
      // The delivery-state bucket is a stream too (KV_<bucket>).
      streams.push(n.stream, n.deadLetterStream, `KV_${n.stream}_delivery_state`);
      return n;
    },
    async startApp(...args) {
      const app = await startApp(...args);
      apps.push(app);
      return app;
    },
  };
}
