// Issue 13 items 2 and 3: only failures consume maxDeliveries (releases at a graceful close do not),
// and handlers already done with an event are not run again on another instance after a partial failure.
import { Injectable } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import {
  consumerIsIdle,
  describeWithNats,
  eventually,
  Progress,
  startApp,
  storedMessages,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

/** Starts handling and never finishes: the instance holds the message until it closes. */
@Injectable()
class HoldingListener {
  readonly started = new Progress();
  @OnEvent('report.build')
  handle() {
    this.started.add();
    return new Promise<void>(() => undefined);
  }
}

@Injectable()
class PromptListener {
  readonly handled: EventEnvelope[] = [];
  readonly progress = new Progress();
  @OnEvent('report.build')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
}

/** Shared by the instances of the partial-failure test (they run in this process). */
const calls = { ledger: 0, mailer: 0 };

@Injectable()
class LedgerListener {
  @OnEvent('invoice.paid')
  handle() {
    calls.ledger++;
  }
}

@Injectable()
class MailerListener {
  readonly failed = new Progress();
  readonly done = new Progress();
  @OnEvent('invoice.paid')
  handle() {
    calls.mailer++;
    if (calls.mailer === 1) {
      this.failed.add();
      throw new Error('the mail server is down');
    }
    this.done.add();
  }
}

describeNats('NATS JetStream transport: the delivery budget', () => {
  const suite = setUpNatsSuite('budget');

  it('does not dead-letter a message released by repeated graceful restarts (only failures count)', async () => {
    const n = suite.names();
    const options = { maxDeliveries: 2, maxLostDeliveries: 2, handlingCloseTimeoutMs: 100 };
    const publisher = await suite.startApp(transport(n, 'publisher'), []);
    const published = publisher.get(EventPublisher).publish('report.build', { month: 11 });

    // Five instances in a row take the message and are closed while handling it: five deliveries,
    // over twice maxDeliveries, each one released.
    const restarts = 5;
    for (let i = 0; i < restarts; i++) {
      const holder = await startApp(transport(n, 'reports', options), [HoldingListener], { shutdownTimeoutMs: 3000 });
      await holder.get(HoldingListener).started.reach(1);
      await holder.close();
    }

    const survivor = await suite.startApp(transport(n, 'reports', options), [PromptListener]);
    await survivor.get(PromptListener).progress.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'reports'));
    expect(survivor.get(PromptListener).handled.map((e) => e.id)).toEqual([published.id]);
    const consumer = await (await jetstreamManager(suite.nc)).consumers.info(n.stream, 'reports');
    expect(consumer.delivered.consumer_seq).toBe(restarts + 1);
    expect(await storedMessages(suite.nc, n.deadLetterStream)).toHaveLength(0);
  }, 60_000);

  it('does not run a handler that already succeeded again when another instance gets the redelivery', async () => {
    const n = suite.names();
    calls.ledger = 0;
    calls.mailer = 0;
    const options = { backoff: { initialDelayMs: 300 } };
    const first = await startApp(transport(n, 'billing', options), [LedgerListener, MailerListener]);
    first.get(EventPublisher).publish('invoice.paid', { invoice: 7 });
    await first.get(MailerListener).failed.reach(1);
    // The first instance goes away before the redelivery (backoff): the second one gets it.
    await first.close();
    expect(calls).toEqual({ ledger: 1, mailer: 1 });

    const second = await suite.startApp(transport(n, 'billing', options), [LedgerListener, MailerListener]);
    await second.get(MailerListener).done.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'billing'));
    expect(calls).toEqual({ ledger: 1, mailer: 2 });
    expect(await storedMessages(suite.nc, n.deadLetterStream)).toHaveLength(0);
  }, 30_000);
});
