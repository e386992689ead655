import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachable } from './nats-test-env.js';

const BINARY = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** True when the binary exists; under CI=true always true, so a missing binary fails the tests instead of skipping them. */
export function natsServerBinaryAvailable(): boolean {
  if (existsSync(BINARY)) return true;
  if (process.env.CI === 'true') return true;
  process.stderr.write(`Skipping the private nats-server tests: no ${BINARY} (set NATS_SERVER_BIN).\n`);
  return false;
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
 * A nats-server of the test's own (JetStream on, its own store directory and port), so a test can stop
 * and restart it without disturbing the shared server other tests use.
 */
export class PrivateNatsServer {
  private process: ChildProcess | undefined;
  private readonly storeDir = mkdtempSync(join(tmpdir(), 'ebt-nats-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateNatsServer> {
    const server = new PrivateNatsServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const child = spawn(BINARY, ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    this.process = child;
    const exited = once(child, 'exit').then(() => false);
    for (;;) {
      const up = await Promise.race([reachable(this.url), exited]);
      if (up) return;
      if (child.exitCode !== null) throw new Error(`nats-server exited with code ${child.exitCode} on port ${this.port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
