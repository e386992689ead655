// The `nestjs-event-bus/dashboard` entry: the optional events page (an HTTP controller; no front-end framework).
export { EventBusDashboardModule } from './event-bus-dashboard.module.js';
export { DashboardConfigError, type EventBusDashboardOptions } from './dashboard-options.js';
export { EventRates, type EventRate } from './event-rates.js';
export type { DashboardState } from './dashboard-state.js';
