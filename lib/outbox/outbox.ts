import { Inject, Injectable } from '@nestjs/common';
import type { EffectiveEvents, EventKey, UntypedEvents } from '../event-map.js';
import { EventIdGenerator } from '../event-id.js';
import { assertPublishableName, eventNameOfClass, type EventClass } from '../event-name.js';
import { InvalidEventError } from '../errors.js';
import type { PublishOptions } from '../interfaces/publish-options.interface.js';
import type { OutboxTransactionAdapter } from './outbox-adapter.interface.js';
import type { OutboxCounts, OutboxDeadLetter, OutboxStore } from './outbox-store.interface.js';
import { OUTBOX_ADAPTER, OUTBOX_STORE } from './outbox.tokens.js';

export interface OutboxPublishOptions extends PublishOptions {
  /** Events with the same key are published in the order they were written (e.g. the aggregate id). */
  key?: string;
}

/** `publish(trx, name, payload?, options?)`: the payload may be left out only where the map allows undefined. */
export type OutboxPublishArgs<TEvents, K extends keyof TEvents> = undefined extends TEvents[K]
  ? [payload?: TEvents[K], options?: OutboxPublishOptions]
  : [payload: TEvents[K], options?: OutboxPublishOptions];

/** What `outbox.publish()` wrote: the id the event will be published with. */
export interface OutboxReceipt {
  id: string;
  name: string;
}

/**
 * Publishes events inside your database transaction: `await outbox.publish(trx, 'order.placed', order)`
 * writes an outbox row through `trx`; the relay publishes it on the bus after commit, never if the
 * transaction rolls back. Type it like EventPublisher: `Outbox<AppEvents, PoolClient>`.
 */
@Injectable()
export class Outbox<TEvents extends object = UntypedEvents, TTransaction = any> {
  private readonly ids = new EventIdGenerator();

  constructor(
    @Inject(OUTBOX_STORE) private readonly store: OutboxStore,
    @Inject(OUTBOX_ADAPTER) private readonly adapter: OutboxTransactionAdapter<TTransaction>,
  ) {}

  /** Writes the event through `transaction`; refuses (OutboxTransactionRequiredError) without an open one. */
  publish<K extends Extract<EventKey<EffectiveEvents<TEvents>>, string>>(
    transaction: TTransaction,
    name: K,
    ...args: OutboxPublishArgs<EffectiveEvents<TEvents>, K>
  ): Promise<OutboxReceipt>;
  /** A class event: named by `@Event('...')` on its class, else the class name; class handlers get an instance back. */
  publish<E extends object>(transaction: TTransaction, event: E, options?: OutboxPublishOptions): Promise<OutboxReceipt>;
  async publish(transaction: TTransaction, nameOrEvent: unknown, payloadOrOptions?: unknown, maybeOptions?: OutboxPublishOptions): Promise<OutboxReceipt> {
    let name: string;
    let payload: unknown;
    let options: OutboxPublishOptions | undefined;
    if (typeof nameOrEvent === 'string') {
      assertPublishableName(nameOrEvent);
      name = nameOrEvent;
      payload = payloadOrOptions;
      options = maybeOptions;
    } else if (isClassInstance(nameOrEvent)) {
      name = eventNameOfClass(nameOrEvent.constructor as EventClass);
      payload = nameOrEvent;
      options = payloadOrOptions as OutboxPublishOptions | undefined;
    } else {
      throw new InvalidEventError(
        'outbox.publish(trx, name, payload) needs a string name (symbols cannot be stored), or publish(trx, new OrderPlaced(...)) with a class event.',
      );
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(payload ?? null);
    } catch (error) {
      throw new InvalidEventError(`The payload of "${name}" cannot be stored in the outbox as JSON: ${(error as Error).message}`);
    }
    // Time-ordered like the bus's own ids (the generator never goes back in time).
    let id = options?.id;
    if (id === undefined) {
      const sequence = this.ids.nextSequence(Date.now());
      id = this.ids.format(this.ids.time, sequence);
    }
    if (options?.key !== undefined && (typeof options.key !== 'string' || options.key === '')) {
      throw new InvalidEventError(`outbox.publish("${name}"): the ordering key must be a non-empty string.`);
    }
    const statement = this.store.insertStatement({
      id,
      name,
      payload: json,
      headers: options?.headers ?? {},
      correlationId: options?.correlationId,
      key: options?.key,
    });
    await this.adapter.execute(transaction, statement);
    return { id, name };
  }

  /** Rows that failed every publish attempt, oldest first. */
  deadLetters(limit = 100): Promise<OutboxDeadLetter[]> {
    return this.store.deadLetters(limit);
  }

  /** Puts dead rows (all, or these event ids) back to be published, with a fresh failure budget. */
  redrive(eventIds?: readonly string[]): Promise<number> {
    return this.store.redrive(eventIds);
  }

  /** Deletes dead rows (all, or these event ids). */
  purgeDeadLetters(eventIds?: readonly string[]): Promise<number> {
    return this.store.purgeDeadLetters(eventIds);
  }

  /** Rows by state, for health checks and dashboards. */
  counts(): Promise<OutboxCounts> {
    return this.store.counts();
  }
}

function isClassInstance(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto !== null && proto !== Object.prototype && typeof proto.constructor === 'function';
}
