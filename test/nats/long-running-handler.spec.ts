import { Injectable } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventPublisher, OnEvent } from '../../lib/index.js';
import { consumerIsIdle, describeWithNats, eventually, Progress, transport } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

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
  const suite = setUpNatsSuite('longrun');
  const names = suite.names();

  it('keeps its message (no redelivery to the other instance) and is acknowledged once', async () => {
    const first = await suite.startApp(transport(names, 'reports', { ackWaitMs: ACK_WAIT_MS }), [ReportListener]);
    const second = await suite.startApp(transport(names, 'reports', { ackWaitMs: ACK_WAIT_MS }), [ReportListener]);
    first.get(EventPublisher).publish('report.requested', { month: '2026-10' });

    const calls = () => first.get(ReportListener).calls + second.get(ReportListener).calls;
    await eventually(() => first.get(ReportListener).done.value + second.get(ReportListener).done.value === 1);
    await eventually(() => consumerIsIdle(suite.nc, names.stream, 'reports'));
    expect(calls()).toBe(1);
    const consumer = await (await jetstreamManager(suite.nc)).consumers.info(names.stream, 'reports');
    expect(consumer.delivered.consumer_seq).toBe(1);
    expect(consumer.num_redelivered).toBe(0);
  });
});
