import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { DEAD_LETTER_HEADER } from '../../lib/nats/index.js';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import {
  consumerIsIdle,
  deferred,
  describeWithNats,
  eventually,
  NATS_URL,
  Progress,
  storedMessages,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

const register = fileURLToPath(new URL('./support/register-ts.mjs', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/stuck-worker.ts', import.meta.url));
const ACK_WAIT_MS = 1500;

@Injectable()
class SurvivorListener {
  readonly handled: EventEnvelope[] = [];
  readonly progress = new Progress();
  @OnEvent('job.run')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
}

/** Starts the stuck worker and resolves its stdout lines one by one. */
function startWorker(names: { stream: string; subjectPrefix?: string }, group: string) {
  const child = spawn(process.execPath, ['--import', register, worker], {
    env: { ...process.env, NATS_URL, STREAM: names.stream, SUBJECT_PREFIX: names.subjectPrefix, GROUP: group, ACK_WAIT_MS: String(ACK_WAIT_MS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = deferred();
  const handling = deferred<string>();
  const exited = once(child, 'exit');
  exited.then(([code, signal]) => {
    const reason = new Error(`stuck worker exited early (code ${String(code)}, signal ${String(signal)}): ${stderr}`);
    ready.reject(reason);
    handling.reject(reason);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'READY') ready.resolve();
    else if (line.startsWith('HANDLING ')) handling.resolve(line.slice('HANDLING '.length));
  });
  // Whichever of these the test does not await must not become an unhandled rejection.
  ready.promise.catch(() => undefined);
  handling.promise.catch(() => undefined);
  return { child, ready: ready.promise, handling: handling.promise, exited };
}

describeNats('NATS JetStream transport: an instance killed mid-handling', () => {
  const suite = setUpNatsSuite('crash');
  const names = suite.names();
  const capped = suite.names('crashcap');
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  /**
   * Publishes job.run from a publisher in its own group (it has no handler for job.run, so its group just
   * acknowledges), lets a stuck worker of group 'workers' start handling it, and kills that worker.
   */
  async function killWorkerMidHandling(n: typeof names, payload: object): Promise<EventEnvelope> {
    const publisherApp = await suite.startApp(transport(n, 'frontend'), []);
    const stuck = startWorker(n, 'workers');
    child = stuck.child;
    await stuck.ready;
    const published = publisherApp.get(EventPublisher).publish('job.run', payload);
    expect(await stuck.handling).toBe(published.id);
    stuck.child.kill('SIGKILL');
    await stuck.exited;
    return published;
  }

  it('leaves the message to another instance of the group, which handles it after the ack wait', async () => {
    const published = await killWorkerMidHandling(names, { job: 42 });

    const survivor = await suite.startApp(transport(names, 'workers', { ackWaitMs: ACK_WAIT_MS }), [SurvivorListener]);
    await survivor.get(SurvivorListener).progress.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, names.stream, 'workers'));

    const [handled] = survivor.get(SurvivorListener).handled;
    expect(handled.id).toBe(published.id);
    expect(handled.payload).toEqual({ job: 42 });
    expect(survivor.get(SurvivorListener).handled).toHaveLength(1);
    const consumer = await (await jetstreamManager(suite.nc)).consumers.info(names.stream, 'workers');
    expect(consumer.num_redelivered).toBe(0); // acknowledged: nothing waits for another redelivery
    expect(consumer.delivered.consumer_seq).toBe(2); // once to the killed worker, once to the survivor
  });

  it('dead-letters a message whose deliveries ran out without an acknowledgement, instead of looping', async () => {
    const published = await killWorkerMidHandling(capped, { job: 43 });

    // One lost delivery allowed: the one the killed worker took. The survivor must not run the handler again.
    const survivor = await suite.startApp(transport(capped, 'workers', { ackWaitMs: ACK_WAIT_MS, maxLostDeliveries: 1 }), [SurvivorListener]);
    await eventually(async () => (await storedMessages(suite.nc, capped.deadLetterStream)).length === 1);
    await eventually(() => consumerIsIdle(suite.nc, capped.stream, 'workers'));

    const [letter] = await storedMessages(suite.nc, capped.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('max-deliveries');
    expect(letter.header.get(DEAD_LETTER_HEADER.deliveries)).toBe('2');
    expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe(published.id);
    expect(letter.json()).toEqual({ job: 43 });
    expect(survivor.get(SurvivorListener).handled).toHaveLength(0);
  });
});
