import type { LoggerService } from '@nestjs/common';
import type { Pool, PoolConfig } from 'pg';
import type { BackoffPolicy } from '../interfaces/retry-policy.interface.js';
import { InvalidOutboxOptionsError } from './errors.js';
import type { OutboxTransactionAdapter } from './outbox-adapter.interface.js';
import type { OutboxTableNames } from './postgres/outbox-tables.js';

export interface OutboxRelayOptions {
  /** Rows claimed per round. Default 100. */
  batchSize?: number;
  /** How long a claim is held; a relay that dies releases its rows when it runs out. Default 30000. */
  leaseMs?: number;
  /** A publish not acknowledged within this counts as failed (less than leaseMs). Default 10000. */
  publishTimeoutMs?: number;
  /** Poll interval when no NOTIFY arrives (e.g. behind PgBouncer in transaction mode). Default 1000. */
  pollIntervalMs?: number;
  /** Use LISTEN/NOTIFY to be woken at commit. Default true. */
  listen?: boolean;
  /** Failed publishes before a row is dead. Default 10. */
  maxAttempts?: number;
  /** Delay before the next publish of a failed row. Default 1s doubling up to 60s. */
  backoff?: BackoffPolicy;
  /** How often published rows and old inbox records are deleted; 0 = never. Default 3600000 (1h). */
  cleanupIntervalMs?: number;
  /** Published rows are kept this long. Default 86400000 (1 day). */
  retainPublishedMs?: number;
  /** Inbox records are kept this long: longer than any redelivery can come late. Default 604800000 (7 days). */
  retainInboxMs?: number;
}

export interface OutboxModuleOptions extends OutboxTableNames {
  /** The relay's database: a pg Pool (yours, not ended by the module), a PoolConfig, or a connection string. */
  connection: Pool | PoolConfig | string;
  /**
   * How `outbox.publish(trx, ...)` writes through your transaction. Default: PgOutboxAdapter on the
   * module's pool (trx = a pg PoolClient inside BEGIN).
   */
  adapter?: OutboxTransactionAdapter<any>;
  /** Creates the tables at start-up (false when your migration tool runs outboxMigrationSql()). Default true. */
  migrate?: boolean;
  /** Runs a relay in this instance; false to only write (another process relays). Default: on. */
  relay?: OutboxRelayOptions | false;
  /** How long app.close() waits for the relay's batch in flight. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Where the outbox logs; false for silence. Default: Nest's Logger with context 'Outbox'. */
  logger?: LoggerService | false;
}

export type ResolvedRelayOptions = Required<OutboxRelayOptions> & { backoff: Required<BackoffPolicy> };

export function resolveRelayOptions(options: OutboxRelayOptions): ResolvedRelayOptions {
  const backoff = { initialDelayMs: 1000, factor: 2, maxDelayMs: 60_000, jitter: false, ...options.backoff };
  const resolved: ResolvedRelayOptions = {
    batchSize: 100,
    leaseMs: 30_000,
    publishTimeoutMs: 10_000,
    pollIntervalMs: 1000,
    listen: true,
    maxAttempts: 10,
    cleanupIntervalMs: 3_600_000,
    retainPublishedMs: 86_400_000,
    retainInboxMs: 604_800_000,
    ...stripUndefined(options),
    backoff,
  };
  positiveInteger('relay.batchSize', resolved.batchSize);
  positiveInteger('relay.leaseMs', resolved.leaseMs);
  positiveInteger('relay.publishTimeoutMs', resolved.publishTimeoutMs);
  positiveInteger('relay.pollIntervalMs', resolved.pollIntervalMs);
  positiveInteger('relay.maxAttempts', resolved.maxAttempts);
  nonNegativeNumber('relay.cleanupIntervalMs', resolved.cleanupIntervalMs);
  nonNegativeNumber('relay.retainPublishedMs', resolved.retainPublishedMs);
  nonNegativeNumber('relay.retainInboxMs', resolved.retainInboxMs);
  nonNegativeNumber('relay.backoff.initialDelayMs', backoff.initialDelayMs);
  nonNegativeNumber('relay.backoff.maxDelayMs', backoff.maxDelayMs);
  if (!(typeof backoff.factor === 'number' && backoff.factor >= 1)) invalid('relay.backoff.factor', backoff.factor, 'a number >= 1');
  if (typeof resolved.listen !== 'boolean') invalid('relay.listen', resolved.listen, 'true or false');
  if (resolved.publishTimeoutMs >= resolved.leaseMs) {
    throw new InvalidOutboxOptionsError(
      `OutboxModule option relay.publishTimeoutMs (${resolved.publishTimeoutMs}) must be less than relay.leaseMs (${resolved.leaseMs}): ` +
        'a lease running out during a publish lets another relay publish the same row at the same time.',
    );
  }
  return resolved;
}

export function validateModuleOptions(options: OutboxModuleOptions): void {
  if (options === null || typeof options !== 'object') throw new InvalidOutboxOptionsError('OutboxModule.forRoot() needs an options object with a `connection`.');
  const c = options.connection;
  if (c === undefined || c === null || (typeof c !== 'string' && typeof c !== 'object')) {
    invalid('connection', c, 'a pg Pool, a pg PoolConfig or a connection string');
  }
  if (options.adapter !== undefined && typeof options.adapter?.execute !== 'function') {
    invalid('adapter', options.adapter, 'an OutboxTransactionAdapter (PgOutboxAdapter, TypeOrmOutboxAdapter, KnexOutboxAdapter, KyselyOutboxAdapter)');
  }
  if (options.migrate !== undefined && typeof options.migrate !== 'boolean') invalid('migrate', options.migrate, 'true or false');
  if (options.shutdownTimeoutMs !== undefined) nonNegativeNumber('shutdownTimeoutMs', options.shutdownTimeoutMs);
  if (options.relay !== undefined && options.relay !== false && (options.relay === null || typeof options.relay !== 'object')) {
    invalid('relay', options.relay, 'relay options or false');
  }
}

function positiveInteger(option: string, value: unknown): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value > 0)) invalid(option, value, 'a positive whole number');
}

function nonNegativeNumber(option: string, value: unknown): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) invalid(option, value, 'a number >= 0');
}

function invalid(option: string, value: unknown, expected: string): never {
  throw new InvalidOutboxOptionsError(`OutboxModule option \`${option}\` must be ${expected}, got ${describe(value)}.`);
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return typeof value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
