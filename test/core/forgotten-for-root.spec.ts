import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBusModule, EventBusModuleNotConfiguredError, EventPublisher, OnEvent } from '../../lib/index.js';

@Injectable()
class OrdersService {
  constructor(readonly events: EventPublisher) {}
}

@Injectable()
class OrdersListener {
  readonly seen: number[] = [];
  @OnEvent('order.placed')
  onPlaced(event: { id: number }) {
    this.seen.push(event.id);
  }
}

describe('a forgotten EventBusModule.forRoot()', () => {
  it('imports: [EventBusModule] fails with an error that says to call forRoot()', async () => {
    @Module({ imports: [EventBusModule], providers: [OrdersService, OrdersListener] })
    class AppModule {}
    const compiling = Test.createTestingModule({ imports: [AppModule] }).compile();
    await expect(compiling).rejects.toBeInstanceOf(EventBusModuleNotConfiguredError);
    await expect(Test.createTestingModule({ imports: [AppModule] }).compile()).rejects.toThrow(
      /imported without forRoot\(\): import EventBusModule\.forRoot\(\)/,
    );
  });

  it('forRoot() and forRootAsync() still replace the guard with their options', async () => {
    for (const busModule of [
      EventBusModule.forRoot({ logger: false }),
      EventBusModule.forRootAsync({ useFactory: async () => ({ logger: false as const }) }),
    ]) {
      @Module({ imports: [busModule], providers: [OrdersService, OrdersListener] })
      class AppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      const app = await moduleRef.createNestApplication().init();
      await app.get(OrdersService).events.publishAndWait('order.placed', { id: 1 });
      expect(app.get(OrdersListener).seen).toEqual([1]);
      await app.close();
    }
  });
});
