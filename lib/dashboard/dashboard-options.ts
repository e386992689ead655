import type { CanActivate, Type } from '@nestjs/common';
import { EventBusError } from '../errors.js';
import type { AsyncApiOptions } from '../asyncapi/generate-async-api.js';

export interface EventBusDashboardOptions {
  /** Where the page is served, e.g. '/events'. Its JSON and actions live under it. */
  path: string;
  /** The app's own Nest guard(s) protecting the page and its actions (redrive, purge). Required unless `localOnly`. */
  guard?: Type<CanActivate> | CanActivate | readonly (Type<CanActivate> | CanActivate)[];
  /** Say `true` to serve the page without a guard: only for a tool that is not reachable by others. */
  localOnly?: boolean;
  /** Minutes the rates cover. Default 5. */
  rateMinutes?: number;
  /** For the AsyncAPI document the page links to (`<path>/asyncapi.json`). Default: the title 'Events', version '0.0.0'. */
  asyncApi?: AsyncApiOptions;
}

/** The dashboard's options are wrong: the message says what to change. */
export class DashboardConfigError extends EventBusError {}

export interface ResolvedDashboardOptions {
  path: string;
  guards: (Type<CanActivate> | CanActivate)[];
  rateMinutes: number;
  asyncApi: AsyncApiOptions;
}

export function resolveDashboardOptions(options: EventBusDashboardOptions): ResolvedDashboardOptions {
  if (options === null || typeof options !== 'object') {
    throw new DashboardConfigError("EventBusDashboardModule.forRoot({ path: '/events', guard: AdminGuard }) needs an options object.");
  }
  const { path, guard, localOnly, rateMinutes = 5 } = options;
  if (typeof path !== 'string' || !/^\/[A-Za-z0-9._~\-/]+$/.test(path) || path.includes('//')) {
    throw new DashboardConfigError(`EventBusDashboardModule: \`path\` must be an absolute URL path below the root such as '/events', got ${JSON.stringify(path)}.`);
  }
  const guards = guard === undefined ? [] : Array.isArray(guard) ? [...guard] : [guard as Type<CanActivate> | CanActivate];
  if (guards.some((g) => g === null || (typeof g !== 'function' && typeof (g as CanActivate).canActivate !== 'function'))) {
    throw new DashboardConfigError('EventBusDashboardModule: `guard` must be a guard class or instance (something with canActivate()).');
  }
  if (localOnly !== undefined && typeof localOnly !== 'boolean') {
    throw new DashboardConfigError('EventBusDashboardModule: `localOnly` must be true or false.');
  }
  if (guards.length === 0 && localOnly !== true) {
    throw new DashboardConfigError(
      'EventBusDashboardModule: the events page can redrive and purge dead letters, so it needs a `guard` (one of your Nest guards, ' +
        "e.g. forRoot({ path: '/events', guard: AdminGuard })). For a tool nobody else can reach, pass `localOnly: true` instead.",
    );
  }
  if (!Number.isSafeInteger(rateMinutes) || rateMinutes < 1 || rateMinutes > 60) {
    throw new DashboardConfigError(`EventBusDashboardModule: \`rateMinutes\` must be a whole number from 1 to 60, got ${String(rateMinutes)}.`);
  }
  return {
    path: path.replace(/\/$/, ''),
    guards,
    rateMinutes,
    asyncApi: options.asyncApi ?? { info: { title: 'Events', version: '0.0.0' } },
  };
}

export const DASHBOARD_OPTIONS = Symbol.for('nestjs-event-bus:dashboard-options');
