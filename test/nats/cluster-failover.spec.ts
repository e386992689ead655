// Issue 13 item 6: against a 3-node JetStream cluster of the test's own, with an R3 stream, the stream
// leader's server is SIGKILLed while events are published and consumed: every accepted publish is handled.
import { Injectable } from '@nestjs/common';
import { jetstreamManager, type StreamInfo } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { eventually, Progress, startApp, transport, uniqueNames } from './support/nats-test-env.js';
import { PrivateNatsCluster } from './support/nats-cluster.js';
import { natsServerBinaryAvailable } from './support/private-nats-server.js';

const withServerBinary = natsServerBinaryAvailable() ? it : it.skip;

@Injectable()
class ShipmentListener {
  readonly handled = new Set<string>();
  readonly progress = new Progress();
  @OnEvent('shipment.booked')
  handle(_payload: unknown, envelope: EventEnvelope) {
    if (!this.handled.has(envelope.id)) this.progress.add();
    this.handled.add(envelope.id);
  }
}

describe('NATS JetStream transport on a 3-node cluster', () => {
  withServerBinary('loses no accepted publish when the stream leader is killed while publishing and consuming', async () => {
    const cluster = await PrivateNatsCluster.start();
    const apps: { close(): Promise<void> }[] = [];
    try {
      const n = uniqueNames('cluster');
      const options = { servers: cluster.urls, streamConfig: { num_replicas: 3 }, ackWaitMs: 5000, connectionOptions: { reconnectTimeWait: 100 } };
      const publisherApp = await startApp(transport(n, 'shipping-front', options), [], { shutdownTimeoutMs: 30_000 });
      apps.push(publisherApp);
      const consumerApp = await startApp(transport(n, 'shipping', options), [ShipmentListener], { shutdownTimeoutMs: 30_000 });
      apps.push(consumerApp);
      const events = publisherApp.get(EventPublisher);

      const total = 600;
      const accepted: string[] = [];
      const refused: unknown[] = [];
      const sends: Promise<void>[] = [];
      const nc = await connect({ servers: cluster.urls });
      let leader: string | undefined;
      try {
        for (let i = 0; i < total; i++) {
          sends.push(
            events.publishAndWait('shipment.booked', { i }).then(
              (report) => void accepted.push(report.envelope.id),
              (error: unknown) => void refused.push(error),
            ),
          );
          if (i === total / 3) {
            // Kill the stream leader while a third is published and the rest is still to come.
            leader = (await (await jetstreamManager(nc)).streams.info(n.stream)).cluster?.leader;
            expect(leader).toBeDefined();
            await cluster.kill(leader!);
          }
          if (i % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await Promise.all(sends);
        // The stream failed over: another server leads it, with the killed one's replica gone.
        let info: StreamInfo | undefined;
        await eventually(async () => {
          info = await jetstreamManager(nc, { timeout: 2000 })
            .then((jsm) => jsm.streams.info(n.stream))
            .catch(() => undefined);
          return info !== undefined;
        });
        if (info === undefined) throw new Error('unreachable');
        expect(info.cluster?.leader).not.toBe(leader);
        expect(info.config.num_replicas).toBe(3);
        process.stderr.write(`cluster failover: ${accepted.length} accepted, ${info.state.messages} stored, leader ${leader} -> ${info.cluster?.leader}\n`);
      } finally {
        await nc.close();
      }
      expect(accepted.length).toBeGreaterThan(0);
      await consumerApp.get(ShipmentListener).progress.reach(accepted.length);
      const handled = consumerApp.get(ShipmentListener).handled;
      expect(accepted.filter((id) => !handled.has(id))).toEqual([]);
      // Re-sends are bounded by the duplicate window, far beyond this test: nothing is refused here.
      expect(refused).toEqual([]);
    } finally {
      for (const app of apps.reverse()) await app.close().catch(() => undefined);
      await cluster.dispose();
    }
  }, 120_000);
});
