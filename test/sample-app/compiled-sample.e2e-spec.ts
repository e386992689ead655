import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { DATABASE_URL, describeWithPostgres, uniqueSchema } from '../outbox/support/pg-test-env.js';
import { describeWithNats, NATS_URL, rawConnection, streamExists } from './nats-env.js';

// The sample as users run it: compiled by `npm run build:sample` into dist-sample/, started as processes.
// One file, so the builds never overlap (Jest runs a file's tests one after another).

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = join(root, 'test/sample-app/fixtures');
const distSample = join(root, 'dist-sample');
const describeNats = await describeWithNats();
const describePg = await describeWithPostgres();

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Finished> {
  return new Promise((resolvePromise, reject) => {
    const { EVENT_TRANSPORT: _t, EVENT_STREAM: _s, SERVICE_NAME: _n, PORT: _p, DATABASE_URL: _d, DATABASE_SCHEMA: _ds, ...inherited } = process.env;
    const child = spawn(command, args, { cwd: root, env: { ...inherited, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

const explain = (finished: Finished) => `exit ${finished.code ?? finished.signal}\n--- stdout\n${finished.stdout}\n--- stderr\n${finished.stderr}`;

beforeAll(async () => {
  const build = await run('npm', ['run', 'build:sample']);
  if (build.code !== 0) throw new Error(`npm run build:sample failed: ${explain(build)}`);
}, 120_000);

describe('compiled sample, in-process', () => {
  it('runs an order end to end without ever loading @nats-io/*, lib/nats, pg or lib/outbox', async () => {
    const finished = await run('node', [
      '--import',
      join(fixtures, 'refuse-nats.mjs'),
      '--import',
      join(fixtures, 'refuse-pg.mjs'),
      join(fixtures, 'place-order-in-compiled-sample.mjs'),
      distSample,
    ]);

    expect({ code: finished.code, stderr: finished.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(finished.stdout)).toMatchObject({ id: 1, status: 'reserved' });
  });

  it('(the check above can fail) with EVENT_TRANSPORT=nats the same process loads the NATS transport', async () => {
    const finished = await run('node', ['--import', join(fixtures, 'refuse-nats.mjs'), join(fixtures, 'place-order-in-compiled-sample.mjs'), distSample], {
      EVENT_TRANSPORT: 'nats',
      EVENT_STREAM: 'never_created',
    });

    expect(finished.code).not.toBe(0);
    expect(finished.stderr).toMatch(/refused to load (@nats-io\/|.*\/lib\/nats\/)/);
  });

  it('(the check above can fail) with DATABASE_URL the same process loads pg and the outbox', async () => {
    const finished = await run('node', ['--import', join(fixtures, 'refuse-pg.mjs'), join(fixtures, 'place-order-in-compiled-sample.mjs'), distSample], {
      DATABASE_URL: 'postgres://127.0.0.1:1/never',
    });

    expect(finished.code).not.toBe(0);
    expect(finished.stderr).toMatch(/refused to load (pg|.*\/lib\/outbox\/)/);
  });

  it('sample:distributed without a NATS server: says why and exits non-zero', async () => {
    // Port 1 on the loopback: nothing listens there.
    const finished = await run('node', [join(distSample, 'sample-app/distributed-demo.js')], { NATS_URL: 'nats://127.0.0.1:1' });

    expect(finished.code).toBe(1);
    expect(finished.stderr).toContain('sample:distributed failed: NATS is not reachable at nats://127.0.0.1:1');
  });
});

describePg('compiled sample with DATABASE_URL', () => {
  const schema = uniqueSchema('compiled');
  afterAll(async () => {
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });

  it('writes the order to PostgreSQL through the outbox (the shipped migration SQL is found next to the compiled outbox)', async () => {
    const finished = await run('node', [join(fixtures, 'place-order-in-compiled-sample.mjs'), distSample], { DATABASE_URL, DATABASE_SCHEMA: schema });

    expect({ code: finished.code, stderr: finished.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(finished.stdout)).toMatchObject({ id: 1, status: 'reserved' });
  }, 60_000);
});

describeNats('npm run sample:distributed (two processes on NATS JetStream)', () => {
  let nc: NatsConnection;

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterAll(async () => {
    await nc.close();
  });

  it('both services handle the same order.placed (fan-out), the order is reserved, both stop on SIGTERM, exit 0', async () => {
    const finished = await run('npm', ['run', 'sample:distributed'], { NATS_URL });
    const out = finished.stdout;
    if (finished.code !== 0) throw new Error(`sample:distributed failed: ${explain(finished)}`);

    const stream = out.match(/^demo +\| NATS JetStream at \S+, stream (\S+) \(new for this run, deleted at the end\)$/m)?.[1];
    expect(stream).toBeDefined();
    // The notifications process logged the SMS for the event the orders process published...
    const smsEvent = out.match(/^notifications \| .*\[Notifications\] Order #1 placed: sending SMS \(event (\S+)\)$/m)?.[1];
    expect(smsEvent).toBeDefined();
    // ...the orders process handled it too (email, reservation), and the runner checked it was the same event.
    expect(out).toMatch(/^orders +\| .*\[EmailListener\] Send confirmation for order #1$/m);
    expect(out).toMatch(/^demo +\| POST http:\/\/localhost:\d+\/orders \{"item":"Coffee","quantity":2\}$/m);
    expect(out).toMatch(/^demo +\| {3}-> 201 \{"id":1,"status":"placed"\}$/m);
    expect(out).toMatch(/^demo +\| GET \/orders\/1 -> status reserved \(placed -> reserved\)$/m);
    expect(out).toContain(`Fan-out: order.placed ${smsEvent} was handled by both groups:`);
    expect(out).toMatch(/^demo +\| {3}orders-service: confirmation email, stock reserved, audited \(order.placed, order.reserved\)$/m);
    expect(out).toMatch(/^demo +\| {3}notifications-service: SMS sent$/m);
    expect(out).toMatch(/^demo +\| Both services shut down gracefully \(exit code 0\)\.$/m);
    // Runs do not replay each other's events: this run's streams are gone.
    expect(await streamExists(nc, stream!)).toBe(false);
    expect(await streamExists(nc, `${stream}_DEAD_LETTERS`)).toBe(false);
  }, 120_000);

  it('a service that cannot start: the runner prints why (with the service\'s own lines) and exits non-zero', async () => {
    // A stream name JetStream refuses: both services fail at start-up with the transport's explanation.
    const finished = await run('node', [join(distSample, 'sample-app/distributed-demo.js')], { NATS_URL, EVENT_STREAM: 'not.a.stream' });

    expect(finished.code).toBe(1);
    expect(finished.stderr).toMatch(/sample:distributed failed: (orders|notifications) exited with code 1 before logging/);
    expect(finished.stderr).toContain('`stream` must be a non-empty name');
  }, 60_000);
});
