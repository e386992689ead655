import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const BINARY = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export function reachable(url = REDIS_URL): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = netConnect({ host: parsed.hostname, port: Number(parsed.port || 6379) });
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
 * `describe` when Redis is up; `describe.skip` with a printed reason when it is not, unless CI=true,
 * where an unreachable server must fail the run (the suites then run and fail to connect).
 */
export async function describeWithRedis(file: string): Promise<jest.Describe> {
  if (await reachable()) return describe;
  if (process.env.CI === 'true') return describe;
  // Straight to stderr: Jest may swallow console output of a file whose tests are all skipped.
  process.stderr.write(`Skipping Redis tests in ${file}: no Redis reachable at ${REDIS_URL} (set REDIS_URL, or start redis-server; under CI=true this fails instead).\n`);
  return describe.skip;
}

/** A stream name no other run uses. */
export function uniqueStream(label: string): string {
  return `ebt-${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export function rawClient(url = REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 3, lazyConnect: false });
}

export async function deleteStreamKeys(client: Redis, stream: string): Promise<void> {
  await client.del(`{${stream}}:events`, `{${stream}}:dead-letters`).catch(() => undefined);
}

/** The entries of a stream as field records, in order. */
export async function entries(client: Redis, key: string): Promise<{ id: string; fields: Record<string, string> }[]> {
  const rows = (await client.xrange(key, '-', '+')) as [string, string[]][];
  return rows.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
    return { id, fields };
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A redis-server of the test's own (its own port and data directory, append-only file on so a restart
 * keeps the streams), to stop and restart without disturbing the shared server. Killed by its PID only.
 */
export class PrivateRedisServer {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ebt-redis-'));

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<PrivateRedisServer> {
    const server = new PrivateRedisServer(await freePort(), extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', ...this.extraArgs];
    const child = spawn(BINARY, args, { stdio: 'ignore' });
    this.process = child;
    for (;;) {
      if (await reachable(this.url)) return;
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Stops it the hard way (SIGKILL): what Redis wrote to its append-only file survives, nothing else. */
  async kill(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
