import { Module, type DynamicModule } from '@nestjs/common';
import type { SampleConfig } from '../sample.config.js';
import { InMemoryOrderWriter } from './in-memory-order.writer.js';
import { OrderListener } from './order.listener.js';
import { OrderStatusListener } from './order-status.listener.js';
import { OrderStore } from './order.store.js';
import { ORDER_WRITER } from './order-writer.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({})
export class OrdersModule {
  /**
   * In memory by default. With DATABASE_URL the orders go to PostgreSQL through the outbox; that
   * module is imported on demand, so the in-memory service never loads pg.
   */
  static forRoot(config: Pick<SampleConfig, 'database'>): DynamicModule {
    const database = config.database;
    return {
      module: OrdersModule,
      imports:
        database === undefined ? [] : [import('./postgres/postgres-orders.module.js').then((m) => m.PostgresOrdersModule.forRoot(database))],
      controllers: [OrdersController],
      providers: [
        OrdersService,
        OrderStore,
        OrderListener,
        OrderStatusListener,
        ...(database === undefined ? [{ provide: ORDER_WRITER, useClass: InMemoryOrderWriter }] : []),
      ],
    };
  }
}
