import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import type { INestApplication, Provider } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { EventBusModule, type EventBusModuleOptions } from '../../../lib/index.js';
import { NatsJetStreamTransport, type NatsJetStreamTransportOptions } from '../../../lib/nats/index.js';

export { deferred } from '../../support/create-app.js';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url.replace(/^nats:/, 'http:'));
  return { host: parsed.hostname, port: Number(parsed.port || 4222) };
}

export function reachable(url = NATS_URL): Promise<boolean> {
  const { host, port } = hostAndPort(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
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
 * `describe` when the server is up; `describe.skip` with a printed reason when it is not, unless CI=true,
 * where an unreachable server must fail the run (the suites then run and fail to connect).
 */
export async function describeWithNats(): Promise<jest.Describe> {
  if (await reachable()) return describe;
  if (process.env.CI === 'true') return describe;
  // Straight to stderr: Jest may swallow console output of a file whose tests are all skipped.
  process.stderr.write(
    `Skipping NATS JetStream tests in ${callerFile()}: no NATS server reachable at ${NATS_URL} (set NATS_URL, or start nats-server -js; under CI=true this fails instead).\n`,
  );
  return describe.skip;
}

function callerFile(): string {
  const line = new Error().stack?.split('\n').find((l) => l.includes('spec.ts'));
  return line?.match(/([\w.-]+spec\.ts)/)?.[1] ?? 'a NATS-backed suite';
}

/** Stream, subject and dead-letter names no other run uses. */
export function uniqueNames(label: string): Pick<NatsJetStreamTransportOptions, 'stream' | 'subjectPrefix'> & { deadLetterStream: string; deadLetterSubject: string } {
  const suffix = `${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const stream = `EBT_${label}_${suffix}`;
  const subjectPrefix = `ebt_${label}_${suffix}`;
  return { stream, subjectPrefix, deadLetterStream: `${stream}_DEAD_LETTERS`, deadLetterSubject: `${subjectPrefix}_dead_letters` };
}

/** A plain client connection for the tests' own checks (stream contents, raw publishes). */
export function rawConnection(url = NATS_URL): Promise<NatsConnection> {
  return connect({ servers: url });
}

export async function deleteStreams(nc: NatsConnection, ...names: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of names) await jsm.streams.delete(name).catch(() => undefined);
}

export async function streamMessageCount(nc: NatsConnection, stream: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  return (await jsm.streams.info(stream)).state.messages;
}

/** Every message stored in a stream, in order. */
export async function storedMessages(nc: NatsConnection, stream: string): Promise<StoredMsg[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg !== null) out.push(msg);
  }
  return out;
}

/** Resolves once `count()` reaches `target`, re-checking whenever `notify` is called. */
export class Progress {
  private waiters: { target: number; resolve: () => void }[] = [];
  value = 0;

  add(n = 1): void {
    this.value += n;
    this.waiters = this.waiters.filter((w) => {
      if (this.value >= w.target) w.resolve();
      return this.value < w.target;
    });
  }

  reach(target: number): Promise<void> {
    if (this.value >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }
}

/** A Nest application whose bus uses `transport`, with the given providers (handlers). */
export async function startApp(
  transport: NatsJetStreamTransport,
  providers: Provider[],
  options: Omit<EventBusModuleOptions, 'transport'> = {},
): Promise<INestApplication> {
  @Module({ imports: [EventBusModule.forRoot({ logger: false, ...options, transport })], providers })
  class NatsTestModule {}
  const moduleRef = await Test.createTestingModule({ imports: [NatsTestModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

export function transport(
  names: Pick<NatsJetStreamTransportOptions, 'stream' | 'subjectPrefix'>,
  group: string,
  extra: Partial<NatsJetStreamTransportOptions> = {},
): NatsJetStreamTransport {
  return new NatsJetStreamTransport({ servers: NATS_URL, ...names, group, ...extra });
}

/** Re-checks `condition` (every 20ms) until it holds; the test's own timeout bounds the wait. */
export async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The group's consumer has nothing left: every message delivered and acknowledged. */
export async function consumerIsIdle(nc: NatsConnection, stream: string, group: string): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.consumers.info(stream, group);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}
