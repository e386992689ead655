import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachable } from './nats-test-env.js';
import { freePort } from './private-nats-server.js';

const BINARY = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

interface Node {
  name: string;
  port: number;
  clusterPort: number;
  storeDir: string;
  process?: ChildProcess;
}

/** A JetStream cluster of three nats-server processes of the test's own, routed on free loopback ports. */
export class PrivateNatsCluster {
  private constructor(private readonly nodes: Node[]) {}

  static async start(size = 3): Promise<PrivateNatsCluster> {
    const nodes: Node[] = [];
    for (let i = 0; i < size; i++) {
      nodes.push({ name: `ebt-n${i}`, port: await freePort(), clusterPort: await freePort(), storeDir: mkdtempSync(join(tmpdir(), 'ebt-natsc-')) });
    }
    const cluster = new PrivateNatsCluster(nodes);
    for (const node of nodes) cluster.spawn(node);
    for (const node of nodes) while (!(await reachable(`nats://127.0.0.1:${node.port}`))) await new Promise((r) => setTimeout(r, 50));
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  private spawn(node: Node): void {
    const routes = this.nodes.filter((n) => n !== node).map((n) => `nats://127.0.0.1:${n.clusterPort}`).join(',');
    node.process = spawn(
      BINARY,
      ['-a', '127.0.0.1', '-p', String(node.port), '-js', '-sd', node.storeDir, '-n', node.name, '--cluster_name', 'ebt', '--cluster', `nats://127.0.0.1:${node.clusterPort}`, '--routes', routes],
      { stdio: 'ignore' },
    );
  }

  /** SIGKILLs the server named `name` (only a process this cluster started). */
  async kill(name: string): Promise<void> {
    const node = this.nodes.find((n) => n.name === name);
    const child = node?.process;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  async dispose(): Promise<void> {
    for (const node of this.nodes) {
      const child = node.process;
      if (child !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(node.storeDir, { recursive: true, force: true });
    }
  }
}
