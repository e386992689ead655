import { Module, ValidationPipe, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { EventBusModule } from '../lib/index.js';
import { EventBusDashboardModule } from '../lib/dashboard/index.js';
import { sampleAsyncApiOptions } from './async-api.js';
import { AuditModule } from './audit/audit.module.js';
import { EmailModule } from './email/email.module.js';
import { EventBusErrorsFilter } from './event-bus-errors.filter.js';
import { eventBusOptions } from './event-bus.options.js';
import { EventMonitorModule } from './event-monitor/event-monitor.module.js';
import { InventoryModule } from './inventory/inventory.module.js';
import { OpsGuard } from './ops/ops.guard.js';
import { OrdersModule } from './orders/orders.module.js';
import { SampleConfigModule } from './sample-config.module.js';
import { sampleConfigFromEnv, type SampleConfig } from './sample.config.js';

/** The order service. Each feature module owns its listeners; EventBusModule (global) finds them all. */
@Module({})
export class AppModule {
  static forRoot(config: SampleConfig = sampleConfigFromEnv()): DynamicModule {
    return {
      module: AppModule,
      imports: [
        SampleConfigModule.forRoot(config),
        // Async so that the NATS transport (EVENT_TRANSPORT=nats) is imported only when configured.
        EventBusModule.forRootAsync({ useFactory: () => eventBusOptions(config) }),
        OrdersModule.forRoot(config),
        InventoryModule,
        EmailModule,
        AuditModule,
        EventMonitorModule,
        // The events page (topology, rates, dead letters with redrive, AsyncAPI) at /events, for the ops user.
        EventBusDashboardModule.forRoot({ path: '/events', guard: OpsGuard, asyncApi: sampleAsyncApiOptions }),
      ],
      providers: [
        // Registered here rather than in main.ts, so tests that build the app from this module get them too.
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true }) },
        { provide: APP_FILTER, useClass: EventBusErrorsFilter },
      ],
    };
  }
}
