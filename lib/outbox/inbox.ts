import type { LoggerService } from '@nestjs/common';
import type { EventBus } from '../event-bus.js';
import type { HandlerMiddleware } from '../handler-middleware.js';
import type { HandlerOptions } from '../interfaces/handler-options.interface.js';
import { OutboxError } from './errors.js';
import type { OutboxTransactionAdapter } from './outbox-adapter.interface.js';
import type { OutboxStore } from './outbox-store.interface.js';

/** Marks handler options as an inbox handler (a symbol: no clash with the bus's own options). */
export const INBOX_OPTION = Symbol.for('nestjs-event-bus/outbox:inbox');

/**
 * Handler options for an exactly-once handler: `@OnEvent('order.placed', inbox())`, or with other
 * options `@OnEvent('order.placed', inbox({ retry: { attempts: 3 } }))`. The handler runs inside a
 * transaction that first records (event id, handler) in the inbox; it receives that transaction as its
 * third argument and makes its writes through it. An event already recorded is skipped, so
 * redeliveries and outbox duplicates change nothing; a handler that throws rolls its record back too.
 */
export function inbox<TPayload = any>(options: HandlerOptions<TPayload> = {}): HandlerOptions<TPayload> {
  return { ...options, [INBOX_OPTION]: true } as HandlerOptions<TPayload>;
}

export function isInboxHandler(options: HandlerOptions): boolean {
  return (options as Record<symbol, unknown>)[INBOX_OPTION] === true;
}

/** Registers the inbox as a handler middleware on the bus. */
export function installInbox(bus: EventBus, store: OutboxStore, adapter: OutboxTransactionAdapter, logger: LoggerService): void {
  const middleware: HandlerMiddleware = (invocation, next) => {
    if (!isInboxHandler(invocation.options)) return next();
    if (adapter.transaction === undefined) {
      throw new OutboxError(
        `${invocation.handler} is an inbox handler, but the outbox adapter "${adapter.name}" was built without a connection to open transactions on: ` +
          'pass it one (new TypeOrmOutboxAdapter(dataSource), new KnexOutboxAdapter(knex), ...).',
      );
    }
    const { handler, envelope } = invocation;
    return adapter.transaction(async (trx) => {
      const recorded = await adapter.execute(trx, store.inboxStatement(envelope.id, handler));
      if (recorded.length === 0) {
        logger.debug?.(`${handler} already handled event ${envelope.id} (inbox): skipped.`);
        return undefined;
      }
      return await next(trx);
    });
  };
  bus.useHandlerMiddleware(middleware);
}
