/** A relay SIGKILLed in the middle of a batch loses nothing: its leased rows go to the next relay. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import pg from 'pg';
import { OnEvent, type EventEnvelope } from '../../lib/index.js';
import { Outbox, applyOutboxMigrations } from '../../lib/outbox/index.js';
import { DATABASE_URL, deferred, describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

const register = fileURLToPath(new URL('../nats/support/register-ts.mjs', import.meta.url));
const relayProcess = fileURLToPath(new URL('./fixtures/crashing-relay.ts', import.meta.url));
const LEASE_MS = 3000;

describePg('outbox relay killed mid-batch', () => {
  const suite = setUpPostgresSuite('crash');
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = suite.pool;
    await applyOutboxMigrations(pool, { schema: suite.schema });
    await pool.query(`CREATE TABLE ${suite.schema}.deliveries (n serial PRIMARY KEY, event_id text NOT NULL, process text NOT NULL)`);
  });

  it('delivers every event: the killed relay leaves its leased rows, the survivor takes them once the lease ran out', async () => {
    const writer = await suite.startApp([], { relay: false });
    const ids: string[] = [];
    await suite.inTransaction(async (client) => {
      for (let i = 0; i < 40; i++) ids.push((await writer.get(Outbox).publish(client, 'job.crash', { i })).id);
    });

    const child = spawn(process.execPath, ['--import', register, relayProcess], {
      env: { ...process.env, DATABASE_URL, SCHEMA: suite.schema, STUCK_AFTER: '5', BATCH_SIZE: '20', LEASE_MS: String(LEASE_MS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stuck = deferred();
    const exited = once(child, 'exit');
    void exited.then(() => stuck.reject(new Error(`crashing relay exited early: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => line === 'STUCK' && stuck.resolve());
    try {
      await stuck.promise;
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Killed with a batch leased, some of it delivered, none of it marked.
    const leased = await suite.rows(`SELECT count(*)::int AS n FROM ${suite.schema}.event_bus_outbox WHERE status = 'pending' AND leased_by IS NOT NULL`);
    expect(leased[0].n).toBe(20);
    const before = await suite.rows(`SELECT event_id FROM ${suite.schema}.deliveries`);
    expect(before.length).toBeGreaterThanOrEqual(5);

    @Injectable()
    class Survivor {
      @OnEvent('job.crash')
      async handle(_payload: unknown, envelope: EventEnvelope) {
        await pool.query(`INSERT INTO ${suite.schema}.deliveries (event_id, process) VALUES ($1, 'survivor')`, [envelope.id]);
      }
    }
    await suite.startApp([Survivor], { relay: { leaseMs: LEASE_MS, publishTimeoutMs: LEASE_MS - 500 } });
    await eventually(async () => (await writer.get(Outbox).counts()).pending === 0);

    const deliveries = await suite.rows(`SELECT event_id, process FROM ${suite.schema}.deliveries`);
    expect([...new Set(deliveries.map((d) => d.event_id))].sort()).toEqual([...ids].sort());
    // Duplicates only for what the killed relay had delivered, with the same event ids.
    const survivorIds = deliveries.filter((d) => d.process === 'survivor').map((d) => d.event_id);
    expect(new Set(survivorIds).size).toBe(survivorIds.length);
    const crashedIds = new Set(before.map((d) => d.event_id));
    const twice = ids.filter((id) => deliveries.filter((d) => d.event_id === id).length > 1);
    expect(twice.every((id) => crashedIds.has(id))).toBe(true);
    expect((await writer.get(Outbox).counts()).published).toBe(40);
  }, 60_000);
});
