/**
 * Core guarantees (API.md sections 4 and 5) asserted through the testing helpers: each test reads as
 * "publish, settle, look at what was recorded", with no sleeps and no hand-made subscriptions.
 */
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { EventBus, EventBusModule, EventPublisher, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, eventBusMatchers, type EventTestingModule } from '../../lib/testing/index.js';

expect.extend(eventBusMatchers);

/** Appends to one shared log, so the order across handlers is visible. */
@Injectable()
class Journal {
  readonly lines: string[] = [];
}

@Injectable()
class Kitchen {
  constructor(
    private readonly journal: Journal,
    private readonly events: EventPublisher,
  ) {}

  @OnEvent('new_order', { priority: 1 })
  low(order: { id: number }) {
    this.journal.lines.push(`low ${order.id}`);
  }

  @OnEvent('new_order', { priority: 5 })
  high(order: { id: number }) {
    this.journal.lines.push(`high ${order.id}`);
  }

  @OnEvent('dish.cook', { concurrency: 1 })
  async cook(dish: { id: number; gate: Promise<void> }) {
    this.journal.lines.push(`start ${dish.id}`);
    await dish.gate;
    this.journal.lines.push(`end ${dish.id}`);
    this.events.publish('dish.ready', { id: dish.id });
  }

  @OnEvent('payment.capture', { retry: { attempts: 3, backoff: { initialDelayMs: 1, factor: 2 } } })
  capture(payment: { fails: number }, envelope: { attempt: number }) {
    this.journal.lines.push(`capture attempt ${envelope.attempt}`);
    if (envelope.attempt <= payment.fails) throw new Error(`gateway down (attempt ${envelope.attempt})`);
  }
}

describe('core guarantees, through the recorder', () => {
  let t: EventTestingModule;
  let journal: Journal;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Journal, Kitchen] });
    journal = t.app.get(Journal);
  });
  afterEach(() => t.close());

  it('never runs a handler inside publish, and a wait set up after publish still sees the event', async () => {
    t.publisher.publish('new_order', { id: 1 });
    expect(journal.lines).toEqual([]);
    expect(t.recorder.count()).toBe(0);
    await t.bus.waitFor('new_order'); // the core's own waitFor: only future events, so this proves it
    expect(t.recorder).toHavePublishedTimes('new_order', 1);
  });

  it('delivers every event exactly once per handler, higher priority first', async () => {
    for (let id = 1; id <= 3; id++) t.publisher.publish('new_order', { id });
    await t.recorder.settle();
    expect(journal.lines).toEqual(['high 1', 'low 1', 'high 2', 'low 2', 'high 3', 'low 3']);
    t.recorder.assertNoFailures();
  });

  it('concurrency: 1 runs one at a time, in publish order; settle() waits for follow-up events too', async () => {
    const gates = [deferred(), deferred()];
    t.publisher.publish('dish.cook', { id: 1, gate: gates[0].promise });
    t.publisher.publish('dish.cook', { id: 2, gate: gates[1].promise });
    await t.recorder.waitFor('dish.cook', { where: (d: { id: number }) => d.id === 2 });
    expect(journal.lines).toEqual(['start 1']);

    gates[1].resolve(); // the second dish is ready first, yet must wait for the first one's slot
    gates[0].resolve();
    await t.recorder.settle();
    expect(journal.lines).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    expect(t.recorder.names()).toEqual(['dish.cook', 'dish.cook', 'dish.ready', 'dish.ready']);
  });

  it('retries by policy with the attempt on the envelope, then dead-letters with the count', async () => {
    t.publisher.publish('payment.capture', { fails: 1 });
    await t.recorder.settle();
    expect(journal.lines).toEqual(['capture attempt 1', 'capture attempt 2']);
    expect(t.recorder.failures()).toEqual([]);

    t.recorder.clear();
    t.publisher.publish('payment.capture', { fails: 10 });
    await t.recorder.settle();
    expect(t.recorder.failedAttempts().map((f) => [f.attempt, f.final])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(t.recorder).toHaveFailed('Kitchen.capture', { attempts: 3, error: 'gateway down (attempt 3)' });
  });

  it('publishAndWait reports the same failures the recorder saw, and never rejects for them', async () => {
    const report = await t.publisher.publishAndWait('payment.capture', { fails: 10 });
    expect(report).toMatchObject({ handled: 0, failed: [{ handler: 'Kitchen.capture' }] });
    expect(t.recorder.failures().map((f) => [f.handler, f.envelope.id])).toEqual([['Kitchen.capture', report.envelope.id]]);
  });

  it('a run-time listener is named by its function in failures, and off() stops it', async () => {
    const bus = t.app.get(EventBus);
    const off = bus.on('new_order', function auditTrail() {
      throw new Error('audit store offline');
    });
    t.publisher.publish('new_order', { id: 1 });
    await t.recorder.settle();
    expect(t.recorder).toHaveFailed('auditTrail', { event: 'new_order', attempts: 1 });

    off();
    t.recorder.clear();
    t.publisher.publish('new_order', { id: 2 });
    await t.recorder.settle();
    t.recorder.assertNoFailures();
  });
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
