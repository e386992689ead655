import { randomBytes } from 'node:crypto';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NatsConfig } from '../../sample-app/sample.config.js';
import { NATS_URL } from '../nats/support/nats-test-env.js';

// One reachability check and skip rule for every NATS-backed suite (skip with a reason locally, fail under CI=true).
export { NATS_URL, describeWithNats, rawConnection } from '../nats/support/nats-test-env.js';

/** A stream of the sample's events that no other run uses (delete it after with deleteStreams). */
export function uniqueNatsConfig(label: string, group: string): NatsConfig {
  return { kind: 'nats', servers: NATS_URL, stream: `sample_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`, group };
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
