import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import type { INestApplication, Provider } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import pg from 'pg';
import { EventBusModule, type EventBusModuleOptions } from '../../../lib/index.js';
import { OutboxModule, type OutboxModuleOptions } from '../../../lib/outbox/index.js';

export { deferred } from '../../support/create-app.js';

export const DATABASE_URL = process.env.OUTBOX_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function reachable(url = DATABASE_URL): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host: parsed.hostname, port: Number(parsed.port || 5432) });
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
 * `describe` when PostgreSQL is up; `describe.skip` with a printed reason when it is not, unless CI=true,
 * where an unreachable database must fail the run (the suites then run and fail to connect).
 */
export async function describeWithPostgres(): Promise<jest.Describe> {
  if (await reachable()) return describe;
  if (process.env.CI === 'true') return describe;
  process.stderr.write(
    `Skipping outbox tests in ${callerFile()}: no PostgreSQL reachable at ${DATABASE_URL} (set OUTBOX_TEST_DATABASE_URL, or start PostgreSQL; under CI=true this fails instead).\n`,
  );
  return describe.skip;
}

function callerFile(): string {
  const line = new Error().stack?.split('\n').find((l) => l.includes('spec.ts'));
  return line?.match(/([\w.-]+spec\.ts)/)?.[1] ?? 'a PostgreSQL-backed suite';
}

/** A schema no other run uses. */
export function uniqueSchema(label: string): string {
  return `ebt_${label}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * One schema per suite, dropped after it; a pool for the tests' own queries; the apps a test starts
 * are closed after it.
 */
export function setUpPostgresSuite(label: string) {
  const schema = uniqueSchema(label);
  const apps: INestApplication[] = [];
  const state = { pool: undefined as unknown as pg.Pool };
  beforeAll(async () => {
    state.pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });
  });
  afterEach(async () => {
    while (apps.length !== 0) await apps.pop()!.close();
  });
  afterAll(async () => {
    await state.pool?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await state.pool?.end();
  });
  return {
    schema,
    get pool() {
      return state.pool;
    },
    /** A Nest app with the bus and the outbox (its relay on unless `relay: false`). */
    async startApp(
      providers: Provider[],
      outbox: Partial<OutboxModuleOptions> = {},
      bus: EventBusModuleOptions = {},
    ): Promise<INestApplication> {
      @Module({
        imports: [
          EventBusModule.forRoot({ logger: false, ...bus }),
          OutboxModule.forRoot({ connection: DATABASE_URL, schema, logger: false, ...outbox, relay: outbox.relay === false ? false : { pollIntervalMs: 200, ...outbox.relay } }),
        ],
        providers,
      })
      class OutboxTestModule {}
      const moduleRef = await Test.createTestingModule({ imports: [OutboxTestModule] }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      apps.push(app);
      return app;
    },
    /** Runs `work` in a transaction on a pooled client and commits (or rolls back when it throws). */
    async inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
      const client = await state.pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
    async rows(sql: string, values: unknown[] = []): Promise<any[]> {
      return (await state.pool.query(sql, values)).rows;
    },
  };
}

/** Re-checks `condition` (every 20ms) until it holds; the test's own timeout bounds the wait. */
export async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 20));
}
