import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { MODULE_OPTIONS_TOKEN } from '../event-bus.module-definition.js';
import { EventBus } from '../event-bus.js';
import type { EventBusModuleOptions } from '../interfaces/event-bus-options.interface.js';
import type { DeadLetterFilter, DeadLetterRecord, RedriveResult } from './dead-letter.interface.js';
import { providesDeadLetterStore, type DeadLetterStore, type Redeliver } from './dead-letter-store.interface.js';
import { InvalidDeadLetterQueryError } from './dead-letters-errors.js';
import { InMemoryDeadLetterStore } from './in-memory-dead-letter.store.js';

/** Dead letters kept by the in-process store; past this the oldest are forgotten. */
export const IN_MEMORY_DEAD_LETTER_CAPACITY = 1000;
const DEFAULT_LIST_LIMIT = 100;

/**
 * The dead letters of this service, whatever the transport: list, inspect, redrive (a fresh delivery to
 * the handler that failed, and to no other), purge. In-process they are the bus's `deadLetters$`, kept
 * in memory; a transport that keeps dead letters on its broker (NATS) serves them from there.
 */
@Injectable()
export class DeadLetters implements OnModuleDestroy {
  private readonly store: DeadLetterStore;
  private readonly redeliver: Redeliver;
  /** Where the dead letters are kept: 'memory', or the transport's name (e.g. 'nats'). */
  readonly source: string;

  constructor(
    private readonly bus: EventBus,
    @Inject(MODULE_OPTIONS_TOKEN) options: EventBusModuleOptions,
  ) {
    const transport = options.transport;
    // Created here, not in onModuleInit: the in-memory store must be listening before any handler runs.
    this.store = providesDeadLetterStore(transport)
      ? transport.deadLetterStore()
      : new InMemoryDeadLetterStore(bus.deadLetters$, IN_MEMORY_DEAD_LETTER_CAPACITY);
    this.source = this.store instanceof InMemoryDeadLetterStore ? 'memory' : transport!.name;
    this.redeliver = (envelope, handlers, headers) => bus.redeliver(envelope, handlers, headers);
  }

  /** The newest dead letters first (at most `limit`, default 100) matching every field of `filter`. */
  list(filter: DeadLetterFilter & { limit?: number } = {}): Promise<DeadLetterRecord[]> {
    const { limit = DEFAULT_LIST_LIMIT, ...rest } = filter;
    if (!Number.isSafeInteger(limit) || limit <= 0) {
      return Promise.reject(new InvalidDeadLetterQueryError(`DeadLetters.list(): \`limit\` must be a positive whole number, got ${String(limit)}.`));
    }
    return this.checked(rest, 'list').then((f) => this.store.list(f, limit));
  }

  get(id: string): Promise<DeadLetterRecord | undefined> {
    if (typeof id !== 'string' || id.length === 0) {
      return Promise.reject(new InvalidDeadLetterQueryError('DeadLetters.get(): pass the `id` of a dead letter from list().'));
    }
    return this.store.get(id);
  }

  /**
   * Delivers a dead letter again, to the handler that failed only (handlers that succeeded are not run
   * again), as a fresh delivery (attempt counting and retries start over) carrying the `eb-redrive-of`
   * header. Once delivered it leaves the dead letters; failing again makes a new one. Idempotent: a
   * second redrive of the same dead letter delivers nothing ('already-redriven').
   */
  async redrive(id: string): Promise<RedriveResult> {
    if (typeof id !== 'string' || id.length === 0) {
      throw new InvalidDeadLetterQueryError('DeadLetters.redrive(): pass the `id` of a dead letter from list().');
    }
    const before = await this.store.get(id);
    const result = await this.store.redrive(id, this.redeliver);
    const what = before === undefined ? `dead letter ${id}` : `dead letter ${id} (${before.event} -> ${before.handler ?? before.reason})`;
    const detail = result.detail === undefined ? '' : `: ${result.detail}`;
    const replaced = result.newDeadLetterId === undefined ? '' : `; new dead letter ${result.newDeadLetterId}`;
    const message = `Redrive of ${what}: ${result.outcome}${replaced}${detail}`;
    if (result.outcome === 'delivered' || result.outcome === 'already-redriven') this.bus.logger.log(message);
    else this.bus.logger.warn(message);
    return result;
  }

  /** Redrives every dead letter matching `filter` (`{ ids: [...] }` for a selection), one after the other. */
  async redriveMany(filter: DeadLetterFilter): Promise<RedriveResult[]> {
    const selected = await this.store.list(await this.checked(filter, 'redriveMany'), Number.MAX_SAFE_INTEGER);
    const results: RedriveResult[] = [];
    // Oldest first: the order they failed in.
    for (const record of selected.reverse()) results.push(await this.redrive(record.id));
    return results;
  }

  /** Removes the dead letters matching `filter` (all of them for `{}`); resolves with how many. Logged. */
  async purge(filter: DeadLetterFilter = {}): Promise<number> {
    const removed = await this.store.purge(await this.checked(filter, 'purge'));
    this.bus.logger.log(`Purged ${removed} dead letters${Object.keys(filter).length === 0 ? '' : ` matching ${JSON.stringify(filter)}`}.`);
    return removed;
  }

  onModuleDestroy(): void {
    if (this.store instanceof InMemoryDeadLetterStore) this.store.close();
  }

  private async checked(filter: DeadLetterFilter, method: string): Promise<DeadLetterFilter> {
    if (filter === null || typeof filter !== 'object') throw new InvalidDeadLetterQueryError(`DeadLetters.${method}(): the filter must be an object.`);
    for (const key of ['event', 'handler', 'reason'] as const) {
      if (filter[key] !== undefined && typeof filter[key] !== 'string') {
        throw new InvalidDeadLetterQueryError(`DeadLetters.${method}(): \`${key}\` must be a string, got ${typeof filter[key]}.`);
      }
    }
    for (const key of ['since', 'until'] as const) {
      const value = filter[key];
      if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
        throw new InvalidDeadLetterQueryError(`DeadLetters.${method}(): \`${key}\` must be a valid Date.`);
      }
    }
    if (filter.ids !== undefined && (!Array.isArray(filter.ids) || filter.ids.some((id) => typeof id !== 'string'))) {
      throw new InvalidDeadLetterQueryError(`DeadLetters.${method}(): \`ids\` must be an array of dead-letter ids.`);
    }
    return filter;
  }
}
