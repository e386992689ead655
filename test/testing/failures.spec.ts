import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { EventBusModule, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, UnexpectedHandlerFailureError, type EventTestingModule } from '../../lib/testing/index.js';

class PaymentDeclined extends Error {}

@Injectable()
class Billing {
  readonly charged: number[] = [];
  private calls = 0;

  @OnEvent('new_order', { retry: { attempts: 3, backoff: { initialDelayMs: 1 } } })
  charge(order: { order_id: number; fail_times: number }) {
    this.calls++;
    if (this.calls <= order.fail_times) throw new PaymentDeclined(`card declined for order ${order.order_id}`);
    this.charged.push(order.order_id);
  }
}

@Injectable()
class Mailer {
  @OnEvent('new_order')
  async confirm(order: { order_id: number }) {
    if (order.order_id < 0) throw new Error('no email address');
  }

  @OnEvent('order.*', { filter: (payload: { vip?: boolean }) => payload.vip! })
  vipOnly() {}
}

describe('EventRecorder: handler failures', () => {
  let t: EventTestingModule;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Billing, Mailer] });
  });
  afterEach(() => t.close());

  it('a handler that recovers within its retries is no failure; every failed attempt is still visible', async () => {
    t.publisher.publish('new_order', { order_id: 1, fail_times: 2 });
    await t.recorder.settle();

    expect(t.app.get(Billing).charged).toEqual([1]);
    expect(t.recorder.failures()).toEqual([]);
    expect(t.recorder.failedAttempts().map((f) => [f.handler, f.attempt, f.final])).toEqual([
      ['Billing.charge', 1, false],
      ['Billing.charge', 2, false],
    ]);
    t.recorder.assertNoFailures();
  });

  it('reports what failed, in which handler, after how many attempts', async () => {
    const envelope = t.publisher.publish('new_order', { order_id: 2, fail_times: 99 });
    await t.recorder.settle();

    const [failure, ...others] = t.recorder.failures();
    expect(others).toEqual([]);
    expect(failure).toMatchObject({ event: 'new_order', handler: 'Billing.charge', attempts: 3 });
    expect(failure.error).toBeInstanceOf(PaymentDeclined);
    expect(failure.envelope).toMatchObject({ id: envelope.id, attempt: 3 });
  });

  it('failures() narrows by handler (or its class) and by event', async () => {
    t.publisher.publish('new_order', { order_id: -1, fail_times: 99 });
    t.publisher.publish('order.created', {}); // filtered out by Mailer.vipOnly: neither a run nor a failure
    await t.recorder.settle();

    expect(t.recorder.failures().map((f) => f.handler)).toEqual(['Mailer.confirm', 'Billing.charge']);
    expect(t.recorder.failures({ handler: 'Mailer' }).map((f) => f.handler)).toEqual(['Mailer.confirm']);
    expect(t.recorder.failures({ handler: 'Billing.charge', event: 'new_order' })).toHaveLength(1);
    expect(t.recorder.failures({ event: 'order.*' })).toEqual([]);
  });

  it('a filter that throws counts as a failure of its handler', async () => {
    t.publisher.publish('order.created', null);
    await t.recorder.settle();
    expect(t.recorder.failures()).toMatchObject([{ handler: 'Mailer.vipOnly', event: 'order.created', attempts: 1 }]);
    expect(t.recorder.failures()[0].error).toBeInstanceOf(TypeError);
  });

  it('assertNoFailures() names each handler, event, attempt count and error, and says what to do', async () => {
    const first = t.publisher.publish('new_order', { order_id: -3, fail_times: 99 });
    await t.recorder.settle();

    let error: unknown;
    try {
      t.recorder.assertNoFailures();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnexpectedHandlerFailureError);
    expect((error as UnexpectedHandlerFailureError).failures).toHaveLength(2);
    expect((error as Error).message).toBe(
      '2 handler runs failed for good (dead-lettered):\n' +
        `  - Mailer.confirm on new_order (id ${first.id}) failed after 1 attempt: Error: no email address\n` +
        `  - Billing.charge on new_order (id ${first.id}) failed after 3 attempts: PaymentDeclined: card declined for order -3\n` +
        'Fix the handler, or, if the failure is what the test expects, assert it with recorder.failures() ' +
        "(or expect(recorder).toHaveFailed('Class.method')) instead of assertNoFailures().",
    );
  });

  it('clear() forgets failures too', async () => {
    t.publisher.publish('new_order', { order_id: -4, fail_times: 99 });
    await t.recorder.settle();
    t.recorder.clear();
    expect(t.recorder.failures()).toEqual([]);
    expect(t.recorder.failedAttempts()).toEqual([]);
  });
});
