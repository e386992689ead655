import 'reflect-metadata';
import { jest } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus, EventBusModule, EventPublisher, OnEvent } from '../../lib/index.js';

// The README's quick start, with the library imported from ../lib and the top-level code in a function:
// if this breaks, so does the README.

interface NewOrder {
  order_id: number;
  item: string;
}

@Injectable()
export class OrderListener {
  @OnEvent('new_order')
  handleNewOrder(order: NewOrder) {
    console.log(`Processing order #${order.order_id} for ${order.item}`);
  }

  @OnEvent('order_shipped')
  handleOrderShipped(event: { order_id: number }) {
    console.log(`Order #${event.order_id} has been shipped.`);
  }
}

@Module({ imports: [EventBusModule.forRoot()], providers: [OrderListener] })
export class AppModule {}

async function quickStart() {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const events = app.get(EventPublisher);

  events.publish('new_order', { order_id: 123, item: 'Coffee' }); // prints: Processing order #123 for Coffee
  events.publish('order_shipped', { order_id: 124 }); //             prints: Order #124 has been shipped.

  await app.get(EventBus).drain(); // publish() returns before handlers run: let them finish
  await app.close();
}

describe('README quick start', () => {
  it('prints the two lines of the seed example', async () => {
    const printed: unknown[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void printed.push(line));
    try {
      await quickStart();
    } finally {
      log.mockRestore();
    }

    expect(printed).toEqual(['Processing order #123 for Coffee', 'Order #124 has been shipped.']);
  });
});
