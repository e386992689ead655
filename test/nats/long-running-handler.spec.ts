import { Injectable, type INestApplication } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EventPublisher, OnEvent } from '../../lib/index.js';
import { consumerIsIdle, deleteStreams, describeWithNats, eventually, Progress, rawConnection, startApp, transport, uniqueNames } from './support/nats-test-env.js';

const describeNats = await describeWithNats();
const ACK_WAIT_MS = 1000;

@Injectable()
class ReportListener {
  calls = 0;
  readonly done = new Progress();
  @OnEvent('report.requested')
  async build() {
    this.calls++;
    // Runs for three ack waits: without working() signals the server would hand it to someone else.
    await new Promise((resolve) => setTimeout(resolve, 3 * ACK_WAIT_MS));
    this.done.add();
  }
}

describeNats('NATS JetStream transport: a handler that runs longer than the ack wait', () => {
  const names = uniqueNames('longrun');
  let nc: NatsConnection;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await deleteStreams(nc, names.stream, names.deadLetterStream);
    await nc.close();
  });

  it('keeps its message (no redelivery to the other instance) and is acknowledged once', async () => {
    const first = await startApp(transport(names, 'reports', { ackWaitMs: ACK_WAIT_MS }), [ReportListener]);
    const second = await startApp(transport(names, 'reports', { ackWaitMs: ACK_WAIT_MS }), [ReportListener]);
    apps.push(first, second);
    first.get(EventPublisher).publish('report.requested', { month: '2026-10' });

    const calls = () => first.get(ReportListener).calls + second.get(ReportListener).calls;
    await eventually(() => first.get(ReportListener).done.value + second.get(ReportListener).done.value === 1);
    await eventually(() => consumerIsIdle(nc, names.stream, 'reports'));
    expect(calls()).toBe(1);
    const consumer = await (await jetstreamManager(nc)).consumers.info(names.stream, 'reports');
    expect(consumer.delivered.consumer_seq).toBe(1);
    expect(consumer.num_redelivered).toBe(0);
  });
});
