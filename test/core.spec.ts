import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBus, EventBusModule, EventPublisher, OnEvent } from '../lib/index.js';

@Injectable()
class Listener {
  seen: unknown[] = [];
  @OnEvent('new_order')
  handle(order: { order_id: number }) {
    this.seen.push(order);
  }
}

describe('smoke', () => {
  it('delivers', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [Listener] }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const events = app.get(EventPublisher);
    const env = events.publish('new_order', { order_id: 1 });
    expect(app.get(Listener).seen).toEqual([]);
    await app.get(EventBus).drain();
    expect(app.get(Listener).seen).toEqual([{ order_id: 1 }]);
    expect(env.id).toHaveLength(23);
    await app.close();
  });
});
