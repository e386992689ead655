// The `nestjs-event-bus/outbox` entry: the only module that loads `pg` (and, each in its own adapter
// file, typeorm / knex / kysely types). PostgreSQL first; the store is an interface.
export { OutboxModule, OutboxRuntime } from './outbox.module.js';
export { OUTBOX_MODULE_OPTIONS, type OutboxOptionsFactory } from './outbox.module-definition.js';
export type { OutboxModuleOptions, OutboxRelayOptions } from './outbox.options.js';
export { Outbox, type OutboxPublishOptions, type OutboxPublishArgs, type OutboxReceipt } from './outbox.js';
export { inbox, INBOX_OPTION } from './inbox.js';
export type { OutboxTransactionAdapter, OutboxStatement } from './outbox-adapter.interface.js';
export type { OutboxStore, OutboxDeadLetter, OutboxCounts, ClaimedOutboxRecord, NewOutboxRecord } from './outbox-store.interface.js';
export { PostgresOutboxStore } from './postgres/postgres-outbox.store.js';
export { applyOutboxMigrations, outboxMigrationSql } from './postgres/migrations.js';
export type { OutboxTableNames } from './postgres/outbox-tables.js';
export { OutboxRelay } from './outbox-relay.js';
export { PgOutboxAdapter } from './adapters/pg.adapter.js';
export { OutboxError, OutboxTransactionRequiredError, InvalidOutboxOptionsError } from './errors.js';
