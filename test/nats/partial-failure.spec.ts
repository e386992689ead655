import { Injectable } from '@nestjs/common';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { EventBus, EventPublisher, OnEvent, type EventEnvelope, type HandlerFailure } from '../../lib/index.js';
import { DEAD_LETTER_HEADER } from '../../lib/nats/index.js';
import {
  consumerIsIdle,
  describeWithNats,
  eventually,
  Progress,
  storedMessages,
  transport,
} from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();

/** Fails its first `failures` calls, then succeeds. */
@Injectable()
class FlakyListener {
  static failures = 2;
  calls = 0;
  succeeded = new Progress();
  @OnEvent('invoice.issued')
  handle() {
    this.calls++;
    if (this.calls <= FlakyListener.failures) throw new Error(`flaky failure ${this.calls}`);
    this.succeeded.add();
  }
}

@Injectable()
class SteadyListener {
  calls = 0;
  done = new Progress();
  @OnEvent('invoice.issued')
  handle() {
    this.calls++;
    this.done.add();
  }
}

@Injectable()
class BrokenListener {
  calls = new Progress();
  @OnEvent('invoice.issued')
  handle() {
    this.calls.add();
    throw new Error('the ledger is read-only');
  }
}

/** Fails the first event it gets, handles the others. */
@Injectable()
class FirstFailsListener {
  readonly handled: string[] = [];
  failed = new Progress();
  @OnEvent('invoice.issued')
  handle(_payload: unknown, envelope: EventEnvelope) {
    if (this.failed.value === 0) {
      this.failed.add();
      throw new Error('first call fails');
    }
    this.handled.push(envelope.id);
  }
}

@Injectable()
class RecordingListener {
  readonly handled: string[] = [];
  @OnEvent('invoice.issued')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope.id);
  }
}

describeNats('NATS JetStream transport: a handler that fails', () => {
  const suite = setUpNatsSuite('fail');

  it('is redelivered with backoff until it succeeds, without re-running the handler that already succeeded', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'billing', { backoff: { initialDelayMs: 20, factor: 2 } }), [FlakyListener, SteadyListener]);
    app.get(EventPublisher).publish('invoice.issued', { invoice: 7 });

    await app.get(FlakyListener).succeeded.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'billing'));

    expect(app.get(FlakyListener).calls).toBe(3);
    expect(app.get(SteadyListener).calls).toBe(1);
    const jsm = await jetstreamManager(suite.nc);
    const consumer = await jsm.consumers.info(n.stream, 'billing');
    expect(consumer.delivered.consumer_seq).toBe(3); // three deliveries of the one message
    expect(await storedMessages(suite.nc, n.deadLetterStream)).toHaveLength(0);
  });

  it("runs the bus's own retries inside one delivery", async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'billing'), [FlakyListener, SteadyListener], { retry: { attempts: 3 } });
    app.get(EventPublisher).publish('invoice.issued', { invoice: 8 });

    await app.get(FlakyListener).succeeded.reach(1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'billing'));

    expect(app.get(FlakyListener).calls).toBe(3);
    expect(app.get(SteadyListener).calls).toBe(1);
    const consumer = await (await jetstreamManager(suite.nc)).consumers.info(n.stream, 'billing');
    expect(consumer.delivered.consumer_seq).toBe(1);
    expect(consumer.num_redelivered).toBe(0);
  });

  it('is dead-lettered with the error, the handler and the delivery count after maxDeliveries, then acknowledged', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'ledger', { maxDeliveries: 3, backoff: { initialDelayMs: 10 } }), [BrokenListener, SteadyListener]);
    const bus = app.get(EventBus);
    const failures: HandlerFailure[] = [];
    const deadLetters: HandlerFailure[] = [];
    bus.errors$.subscribe((failure) => failures.push(failure));
    bus.deadLetters$.subscribe((failure) => deadLetters.push(failure));
    const envelope = app.get(EventPublisher).publish('invoice.issued', { invoice: 9 });

    await app.get(BrokenListener).calls.reach(3);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'ledger'));
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 1);

    const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
    expect(letter.subject).toBe(`${n.deadLetterSubject}.ledger`);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('handler-failed');
    expect(letter.header.get(DEAD_LETTER_HEADER.handler)).toBe('BrokenListener.handle');
    expect(letter.header.get(DEAD_LETTER_HEADER.error)).toBe('Error: the ledger is read-only');
    expect(letter.header.get(DEAD_LETTER_HEADER.deliveries)).toBe('3');
    expect(letter.header.get(DEAD_LETTER_HEADER.group)).toBe('ledger');
    expect(letter.header.get(DEAD_LETTER_HEADER.originalSubject)).toBe(`${n.subjectPrefix}.invoice.issued`);
    expect(letter.json()).toEqual({ invoice: 9 });
    expect(letter.header.get(DEAD_LETTER_HEADER.originalId)).toBe(envelope.id);
    expect(app.get(BrokenListener).calls.value).toBe(3);
    expect(app.get(SteadyListener).calls).toBe(1);
    // The bus tells the same story: two failures the broker will retry, then one dead letter.
    expect(failures.map((f) => [f.handler, f.final])).toEqual([
      ['BrokenListener.handle', false],
      ['BrokenListener.handle', false],
      ['BrokenListener.handle', true],
    ]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0].envelope.id).toBe(envelope.id);
  });

  it('does not skip handlers of a new message that reuses the stream sequence of a failed one (stream recreated)', async () => {
    const n = suite.names();
    // The failed message's redelivery is far off; meanwhile the stream is deleted and created again.
    const app = await suite.startApp(transport(n, 'billing', { backoff: { initialDelayMs: 60_000 } }), [FirstFailsListener, RecordingListener]);
    const first = app.get(EventPublisher).publish('invoice.issued', { invoice: 1 });
    await app.get(FirstFailsListener).failed.reach(1);
    await eventually(() => app.get(RecordingListener).handled.length === 1);

    const jsm = await jetstreamManager(suite.nc);
    await jsm.streams.delete(n.stream);
    await jsm.streams.add({ name: n.stream, subjects: [`${n.subjectPrefix}.>`] });
    await jsm.consumers.add(n.stream, { durable_name: 'billing', ack_policy: AckPolicy.Explicit, filter_subject: `${n.subjectPrefix}.>`, ack_wait: nanos(30_000) });
    const second = app.get(EventPublisher).publish('invoice.issued', { invoice: 2 }); // stream sequence 1 again

    await eventually(() => app.get(FirstFailsListener).handled.length === 1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'billing'));
    expect(app.get(FirstFailsListener).handled).toEqual([second.id]);
    expect(app.get(RecordingListener).handled).toEqual([first.id, second.id]);
  });
});
