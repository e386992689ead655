import { Module, type DynamicModule } from '@nestjs/common';
import { DASHBOARD_OPTIONS, resolveDashboardOptions, type EventBusDashboardOptions } from './dashboard-options.js';
import { createDashboardController } from './dashboard.controller.js';
import { DashboardService } from './dashboard.service.js';
import { EventRates } from './event-rates.js';

/**
 * The events page: topology, rates, load, dead letters with redrive and purge, and the AsyncAPI
 * document, at `path`. Off unless imported; needs EventBusModule (global) in the application, and a guard
 * of the application's own unless `localOnly: true`:
 *
 * ```ts
 * imports: [EventBusModule.forRoot(), EventBusDashboardModule.forRoot({ path: '/events', guard: AdminGuard })]
 * ```
 */
@Module({})
export class EventBusDashboardModule {
  static forRoot(options: EventBusDashboardOptions): DynamicModule {
    const resolved = resolveDashboardOptions(options);
    return {
      module: EventBusDashboardModule,
      controllers: [createDashboardController(resolved.path, resolved.guards)],
      providers: [{ provide: DASHBOARD_OPTIONS, useValue: resolved }, EventRates, DashboardService],
      exports: [EventRates],
    };
  }
}
