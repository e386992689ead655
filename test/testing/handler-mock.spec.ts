import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { EventBusModule, InvalidHandlerError, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, mockHandlers, type RecordingHandler } from '../../lib/testing/index.js';

/** Stands for a client that must not be reached from unit tests. */
@Injectable()
class SmtpClient {
  send(to: string, text: string): Promise<void> {
    return Promise.reject(new Error(`the test tried to email ${to}: ${text}`));
  }
}

@Injectable()
class BaseNotifier {
  @OnEvent('order.shipped')
  notifyShipped(order: { order_id: number }) {
    return this.smtp.send('customer@example.com', `order ${order.order_id} shipped`);
  }
  constructor(protected readonly smtp: SmtpClient) {}
}

@Injectable()
class OrderNotifier extends BaseNotifier {
  @OnEvent('new_order')
  confirm(order: { order_id: number }) {
    return this.smtp.send('customer@example.com', `order ${order.order_id} confirmed`);
  }

  format(order: { order_id: number }) {
    return `#${order.order_id}`;
  }
}

const imports = [EventBusModule.forRoot({ logger: false })];
const providers = [SmtpClient, OrderNotifier];

describe('mockHandlers with overrideProvider', () => {
  it('keeps the registration of every @OnEvent method, inherited ones included, and calls the replacements', async () => {
    const confirmed: number[] = [];
    const t = await createEventTestingModule(
      { imports, providers },
      {
        override: (builder) =>
          builder.overrideProvider(OrderNotifier).useValue(
            mockHandlers(OrderNotifier, { confirm: (order: { order_id: number }) => void confirmed.push(order.order_id) }),
          ),
      },
    );
    t.publisher.publish('new_order', { order_id: 1 });
    const shipped = t.publisher.publish('order.shipped', { order_id: 1 });
    await t.recorder.settle();

    expect(confirmed).toEqual([1]);
    // The handler not replaced became a RecordingHandler: called, with (payload, envelope), and harmless.
    const notifyShipped = t.app.get(OrderNotifier).notifyShipped as unknown as RecordingHandler;
    expect(notifyShipped.calls).toEqual([[{ order_id: 1 }, shipped]]);
    t.recorder.assertNoFailures();
    expect(t.bus.handlers().map((h) => h.handler).sort()).toEqual(['OrderNotifier.confirm', 'OrderNotifier.notifyShipped']);
    // Other methods are inherited unchanged.
    expect(t.app.get(OrderNotifier).format({ order_id: 3 })).toBe('#3');
    await t.close();
  });

  it('is needed: a plain useValue object loses the registration, so its methods are never called', async () => {
    const calls: unknown[] = [];
    const t = await createEventTestingModule(
      { imports, providers },
      { override: (builder) => builder.overrideProvider(OrderNotifier).useValue({ confirm: (order: unknown) => void calls.push(order) }) },
    );
    t.publisher.publish('new_order', { order_id: 1 });
    await t.recorder.settle();
    expect(calls).toEqual([]);
    expect(t.bus.handlers()).toEqual([]);
    await t.close();
  });

  it('refuses a replacement for a method that is no handler, naming the handlers there are', () => {
    expect(() => mockHandlers(OrderNotifier, { format: () => '' })).toThrow(
      new InvalidHandlerError(
        'mockHandlers(OrderNotifier): format is not an @OnEvent method of OrderNotifier, so the bus would never call it. ' +
          'Its handlers are: confirm, notifyShipped.',
      ),
    );
  });

  it('refuses a class without handlers', () => {
    expect(() => mockHandlers(SmtpClient)).toThrow(
      /^mockHandlers\(SmtpClient\): SmtpClient has no @OnEvent method, so there is no registration to keep\./,
    );
  });
});
