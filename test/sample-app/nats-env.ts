import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NatsConfig } from '../../sample-app/sample.config.js';

/** The NATS server the sample's NATS tests use. */
export const NATS_URL = process.env.NATS_URL || 'nats://127.0.0.1:4222';

function reachable(url: string): Promise<boolean> {
  const parsed = new URL(url.replace(/^nats:/, 'http:'));
  return new Promise((resolve) => {
    const socket = netConnect({ host: parsed.hostname, port: Number(parsed.port || 4222) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * `describe` when the NATS server is up. When it is not: `describe.skip` with the reason printed, unless
 * CI=true, where the suite runs (and fails to connect): an unreachable server must fail a CI run.
 */
export async function describeWithNats(): Promise<jest.Describe> {
  if (await reachable(NATS_URL)) return describe;
  if (process.env.CI === 'true') return describe;
  console.warn(`Skipping the sample's NATS tests: no NATS server reachable at ${NATS_URL} (start nats-server -js, or set NATS_URL).`);
  return describe.skip;
}

/** A stream of the sample's events that no other run uses (delete it after with deleteStreams). */
export function uniqueNatsConfig(label: string, group: string): NatsConfig {
  return { kind: 'nats', servers: NATS_URL, stream: `sample_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`, group };
}

/** A plain client connection, for the tests' own look at the server. */
export function rawConnection(): Promise<NatsConnection> {
  return connect({ servers: NATS_URL });
}

/** Deletes a stream and its dead-letter stream; true for each one that existed. */
export async function deleteSampleStreams(nc: NatsConnection, stream: string): Promise<boolean[]> {
  const jsm = await jetstreamManager(nc);
  const deleted: boolean[] = [];
  for (const name of [stream, `${stream}_DEAD_LETTERS`]) deleted.push(await jsm.streams.delete(name).catch(() => false));
  return deleted;
}

export async function streamExists(nc: NatsConnection, stream: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  return jsm.streams.info(stream).then(
    () => true,
    () => false,
  );
}

/** The subjects of every message stored in a stream, in order. */
export async function storedSubjects(nc: NatsConnection, stream: string): Promise<string[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const subjects: string[] = [];
  for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
    const msg: StoredMsg | null = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg !== null) subjects.push(msg.subject);
  }
  return subjects;
}

/** What the group's durable consumer has left: not yet delivered, and delivered but not acknowledged. */
export async function consumerBacklog(nc: NatsConnection, stream: string, group: string): Promise<{ pending: number; unacknowledged: number; delivered: number }> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(stream, group);
  return { pending: info.num_pending, unacknowledged: info.num_ack_pending, delivered: info.delivered.stream_seq };
}
