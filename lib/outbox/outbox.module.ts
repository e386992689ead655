import { Inject, Injectable, Logger, Module, type LoggerService, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { EventBus } from '../event-bus.js';
import { PgOutboxAdapter } from './adapters/pg.adapter.js';
import { installInbox } from './inbox.js';
import type { OutboxTransactionAdapter } from './outbox-adapter.interface.js';
import {
  ConfigurableOutboxModule,
  OUTBOX_ASYNC_OPTIONS_TYPE,
  OUTBOX_MODULE_OPTIONS,
  OUTBOX_OPTIONS_TYPE,
} from './outbox.module-definition.js';
import { resolveRelayOptions, validateModuleOptions, type OutboxModuleOptions } from './outbox.options.js';
import { OutboxRelay } from './outbox-relay.js';
import type { OutboxStore } from './outbox-store.interface.js';
import { OUTBOX_ADAPTER, OUTBOX_STORE } from './outbox.tokens.js';
import { Outbox } from './outbox.js';
import { PostgresOutboxStore } from './postgres/postgres-outbox.store.js';

/** The pool, store, adapter and relay of one application. */
@Injectable()
export class OutboxRuntime implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  readonly logger: LoggerService;
  readonly store: PostgresOutboxStore;
  readonly adapter: OutboxTransactionAdapter;
  readonly relay: OutboxRelay | undefined;
  private readonly ownsPool: boolean;
  private poolEnded = false;

  constructor(@Inject(OUTBOX_MODULE_OPTIONS) private readonly options: OutboxModuleOptions, bus: EventBus, modules: ModulesContainer) {
    validateModuleOptions(options);
    this.logger = options.logger === false ? SILENT : (options.logger ?? new Logger('Outbox'));
    const relayOptions = options.relay === false ? undefined : resolveRelayOptions(options.relay ?? {});
    const connection = options.connection;
    this.ownsPool = !(connection instanceof pg.Pool);
    const pool = connection instanceof pg.Pool ? connection : new pg.Pool(typeof connection === 'string' ? { connectionString: connection } : connection);
    // An idle client's error (server restart) must not crash the process: the relay reconnects.
    if (this.ownsPool) pool.on('error', (error) => this.logger.warn(`Outbox pool: ${error.message}`));
    this.store = new PostgresOutboxStore(pool, options);
    this.adapter = options.adapter ?? new PgOutboxAdapter(pool);
    installInbox(bus, this.store, this.adapter, this.logger);
    if (relayOptions !== undefined) {
      const relayId = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
      this.relay = new OutboxRelay(relayId, this.store, bus, relayOptions, this.logger);
    }
    // Start after every other module (the bus and its transport are up), stop before any (the bus
    // drains after the relay stopped publishing into it): the lowest distance, below the bus's -1.
    for (const moduleRef of modules.values()) if (moduleRef.providers.has(OutboxRuntime)) moduleRef.distance = -2;
  }

  async migrate(): Promise<void> {
    if (this.options.migrate ?? true) await this.store.migrate();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.relay?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.relay?.stop(this.options.shutdownTimeoutMs ?? 10_000);
  }

  /** After every onModuleDestroy: the bus has drained by then, and inbox handlers needed the pool until it did. */
  async onApplicationShutdown(): Promise<void> {
    if (this.ownsPool && !this.poolEnded) {
      this.poolEnded = true;
      await this.store.pool.end();
    }
  }
}

const SILENT: LoggerService = { log() {}, warn() {}, error() {}, debug() {} };

const providers: Provider[] = [
  OutboxRuntime,
  {
    provide: OUTBOX_STORE,
    // Migrated before anything that publishes can be built.
    useFactory: async (runtime: OutboxRuntime): Promise<OutboxStore> => {
      await runtime.migrate();
      return runtime.store;
    },
    inject: [OutboxRuntime],
  },
  { provide: OUTBOX_ADAPTER, useFactory: (runtime: OutboxRuntime) => runtime.adapter, inject: [OutboxRuntime] },
  Outbox,
];

/**
 * `OutboxModule.forRoot({ connection, adapter? })` (or `forRootAsync`): provides `Outbox`, runs the
 * relay, and makes `inbox()` handlers work. Global unless `{ global: false }`.
 */
@Module({ providers, exports: [Outbox, OutboxRuntime] })
export class OutboxModule extends ConfigurableOutboxModule {
  static override forRoot(options: typeof OUTBOX_OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static override forRootAsync(options: typeof OUTBOX_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
