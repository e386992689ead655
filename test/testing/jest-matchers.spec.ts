import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { stripVTControlCharacters } from 'node:util';
import { EventBusModule, EventPublisher, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, eventBusMatchers, type EventTestingModule } from '../../lib/testing/index.js';

expect.extend(eventBusMatchers);

class OutOfStock extends Error {}

@Injectable()
class Inventory {
  constructor(private readonly events: EventPublisher) {}

  @OnEvent('new_order', { retry: { attempts: 2 } })
  reserve(order: { order_id: number; item: string }) {
    if (order.item === 'Unicorn') throw new OutOfStock(`no ${order.item} left`);
    this.events.publish('stock.reserved', { order_id: order.order_id, item: order.item });
  }
}

/** The message a failing assertion prints, without colours. */
function failureOf(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    return stripVTControlCharacters((error as Error).message);
  }
  throw new Error('expected the assertion to fail');
}

describe('jest matchers', () => {
  let t: EventTestingModule;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Inventory] });
    t.publisher.publish('new_order', { order_id: 1, item: 'Coffee' });
    t.publisher.publish('new_order', { order_id: 2, item: 'Unicorn' });
    await t.recorder.settle();
  });
  afterEach(() => t.close());

  describe('toHavePublished', () => {
    it('passes on a name, with or without a payload (Jest equality, asymmetric matchers included)', () => {
      expect(t.recorder).toHavePublished('new_order');
      expect(t.recorder).toHavePublished('new_order', { order_id: 2, item: 'Unicorn' });
      expect(t.recorder).toHavePublished('stock.*', expect.objectContaining({ item: 'Coffee' }));
      expect(t.recorder).not.toHavePublished('order.cancelled');
      expect(t.recorder).not.toHavePublished('stock.reserved', { order_id: 2, item: 'Unicorn' });
    });

    it('when no payload matches, prints a diff against the last event of that name, then what was published', () => {
      const message = failureOf(() => expect(t.recorder).toHavePublished('new_order', { order_id: 2, item: 'Tea' }));
      expect(message).toBe(
        [
          'expect(recorder).toHavePublished("new_order", payload)',
          '',
          '2 "new_order" events were published, none with this payload. Compared with the last one (#2):',
          '',
          '- Expected payload  - 1',
          '+ Received payload  + 1',
          '',
          '  Object {',
          '-   "item": "Tea",',
          '+   "item": "Unicorn",',
          '    "order_id": 2,',
          '  }',
          '',
          'Published (3 events, in order):',
          "  1. new_order { order_id: 1, item: 'Coffee' }",
          "  2. new_order { order_id: 2, item: 'Unicorn' }",
          "  3. stock.reserved { order_id: 1, item: 'Coffee' }",
        ].join('\n'),
      );
    });

    it('when no event has the name, says so and lists what was published', () => {
      const message = failureOf(() => expect(t.recorder).toHavePublished('order.cancelled'));
      expect(message).toBe(
        'expect(recorder).toHavePublished("order.cancelled")\n\nNo "order.cancelled" event was published.\n\n' +
          'Published (3 events, in order):\n' +
          "  1. new_order { order_id: 1, item: 'Coffee' }\n" +
          "  2. new_order { order_id: 2, item: 'Unicorn' }\n" +
          "  3. stock.reserved { order_id: 1, item: 'Coffee' }",
      );
    });

    it('.not names the event that matched', () => {
      const message = failureOf(() => expect(t.recorder).not.toHavePublished('stock.reserved'));
      expect(message).toMatch(/^expect\(recorder\)\.not\.toHavePublished\("stock\.reserved"\)\n\nExpected no "stock\.reserved" event, but event #3 matched:\n  \{"item": "Coffee", "order_id": 1\}\n/);
    });

    it('refuses something that is not a recorder, saying where to get one', () => {
      expect(() => expect(t.bus).toHavePublished('new_order')).toThrow(
        'expect(received).toHavePublished(): received must be an EventRecorder, from createEventTestingModule() or EventRecorder.attach(moduleRef); got object.',
      );
    });
  });

  describe('toHavePublishedTimes', () => {
    it('counts matching events', () => {
      expect(t.recorder).toHavePublishedTimes('new_order', 2);
      expect(t.recorder).toHavePublishedTimes('stock.reserved', 1);
      expect(t.recorder).not.toHavePublishedTimes('new_order', 1);
    });

    it('prints expected and received counts, then what was published', () => {
      const message = failureOf(() => expect(t.recorder).toHavePublishedTimes('stock.reserved', 2));
      expect(message).toMatch(/^expect\(recorder\)\.toHavePublishedTimes\("stock\.reserved", 2\)\n\nExpected 2 "stock\.reserved" events, received 1\.\n\nPublished \(3 events/);
    });
  });

  describe('toHaveFailed', () => {
    it('matches on handler (or class), event, attempts and error (substring, RegExp, class)', () => {
      expect(t.recorder).toHaveFailed('Inventory.reserve');
      expect(t.recorder).toHaveFailed('Inventory', { event: 'new_order', attempts: 2, error: 'no Unicorn left' });
      expect(t.recorder).toHaveFailed('Inventory.reserve', { error: /unicorn/i });
      expect(t.recorder).toHaveFailed('Inventory.reserve', { error: OutOfStock });
      expect(t.recorder).not.toHaveFailed('Inventory.reserve', { attempts: 1 });
      expect(t.recorder).not.toHaveFailed('Mailer.confirm');
    });

    it('when the handler failed differently, shows how it did fail', () => {
      const failed = t.recorder.failures()[0];
      const message = failureOf(() => expect(t.recorder).toHaveFailed('Inventory.reserve', { attempts: 3, error: TypeError }));
      expect(message).toBe(
        'expect(recorder).toHaveFailed(handler)\n\n' +
          'Expected Inventory.reserve to fail after 3 attempts with error of class TypeError.\n' +
          'Inventory.reserve failed, but not as expected:\n' +
          `  - Inventory.reserve on new_order (id ${failed.envelope.id}) failed after 2 attempts: OutOfStock: no Unicorn left\n\n` +
          'Published (3 events, in order):\n' +
          "  1. new_order { order_id: 1, item: 'Coffee' }\n" +
          "  2. new_order { order_id: 2, item: 'Unicorn' }\n" +
          "  3. stock.reserved { order_id: 1, item: 'Coffee' }",
      );
    });

    it('when another handler failed, lists the failures there were', () => {
      const message = failureOf(() => expect(t.recorder).toHaveFailed('Mailer.confirm'));
      expect(message).toContain('Expected Mailer.confirm to fail.\nMailer.confirm did not fail. These did:\n  - Inventory.reserve on new_order');
    });

    it('when nothing failed, says so', () => {
      t.recorder.clear();
      const message = failureOf(() => expect(t.recorder).toHaveFailed('Inventory.reserve'));
      expect(message).toContain('Expected Inventory.reserve to fail.\nNo handler failed.\n');
    });
  });
});
