/**
 * The Redis Streams transport on a Redis Cluster of three masters started by the test itself (no
 * replicas, so no failover here: see the note in README "Scaling out"). Every key of one stream shares a
 * hash slot ({stream}), so the pipelines, MULTI and scripts all run on one node.
 */
import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Cluster } from 'ioredis';
import { EventBus, EventBusModule, EventPublisher, type EventEnvelope } from '../../lib/index.js';
import { RedisStreamsTransport } from '../../lib/redis/index.js';
import { describeWithRedis, freePort, reachable, uniqueStream } from './support/redis-test-env.js';

const describeRedis = await describeWithRedis('cluster.spec.ts');

describeRedis('Redis Streams transport on a 3-node Redis Cluster', () => {
  const nodes: ChildProcess[] = [];
  const ports: number[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ebt-redis-cluster-'));
  const apps: INestApplication[] = [];
  const clusters: Cluster[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      ports.push(port);
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir, '--save', '', '--appendonly', 'no'];
      nodes.push(spawn('/usr/bin/redis-server', args, { stdio: 'ignore' }));
    }
    for (const port of ports) while (!(await reachable(`redis://127.0.0.1:${port}`))) await new Promise((r) => setTimeout(r, 50));
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], { stdio: 'ignore' });
    // Wait until every node agrees the cluster is up.
    for (const port of ports) {
      while (!execFileSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).includes('cluster_state:ok')) {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 60_000);

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const c of clusters) c.disconnect();
    for (const node of nodes) {
      if (node.exitCode === null) {
        const exited = once(node, 'exit');
        node.kill('SIGKILL');
        await exited;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function cluster(): Cluster {
    const c = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })), { redisOptions: { maxRetriesPerRequest: null } });
    clusters.push(c);
    return c;
  }

  async function start(stream: string, group: string, seen?: EventEnvelope[]): Promise<INestApplication> {
    const transport = new RedisStreamsTransport({ connection: cluster(), stream, group, blockMs: 300 });
    @Module({ imports: [EventBusModule.forRoot({ logger: false, transport })] })
    class ClusterTestModule {}
    const app = (await Test.createTestingModule({ imports: [ClusterTestModule] }).compile()).createNestApplication({ logger: false });
    if (seen !== undefined) app.get(EventBus).on('job.run', (_p: unknown, e: EventEnvelope) => void seen.push(e));
    await app.init();
    apps.push(app);
    return app;
  }

  it('delivers every event of several streams (spread over the nodes by hash slot) to every group', async () => {
    const streams = [uniqueStream('c1'), uniqueStream('c2'), uniqueStream('c3')];
    for (const stream of streams) {
      const a: EventEnvelope[] = [];
      const b: EventEnvelope[] = [];
      await start(stream, 'a', a);
      await start(stream, 'b', b);
      const publisher = await start(stream, 'publisher');
      const ids: string[] = [];
      for (let i = 0; i < 50; i++) ids.push(publisher.get(EventPublisher).publish('job.run', { i }).id);
      while (a.length < 50 || b.length < 50) await new Promise((r) => setTimeout(r, 25));
      expect(a.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(b.map((e) => e.id).sort()).toEqual([...ids].sort());
    }
  }, 60_000);
});
