import { Module, type DynamicModule } from '@nestjs/common';
import { OutboxModule } from '../../../lib/outbox/index.js';
import type { DatabaseConfig } from '../../sample.config.js';
import { ORDER_WRITER } from '../order-writer.js';
import { PostgresOrderWriter } from './postgres-order.writer.js';

/** Imported (and pg loaded) only with DATABASE_URL: see OrdersModule.forRoot. */
@Module({})
export class PostgresOrdersModule {
  static forRoot(database: DatabaseConfig): DynamicModule {
    return {
      module: PostgresOrdersModule,
      imports: [OutboxModule.forRoot({ connection: database.url, schema: database.schema })],
      providers: [{ provide: ORDER_WRITER, useClass: PostgresOrderWriter }],
      exports: [ORDER_WRITER],
    };
  }
}
