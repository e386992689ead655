import type { HandlerOptions } from '../interfaces/handler-options.interface.js';

/**
 * The `@OnEvent` options of `@nestjs/event-emitter` that `@OnEvent` here accepts, so switching the
 * import compiles: each one either already holds for every handler of this bus, or describes how
 * eventemitter2 schedules a deferred call, which does not exist here. The ones whose meaning cannot be
 * kept (`async: false`, `suppressErrors: false`, `prependListener`) are refused, naming the replacement.
 */
export interface EventEmitterHandlerOptions {
  /** @deprecated From @nestjs/event-emitter: every handler here runs after `publish` returns. Remove it. */
  async?: true;
  /** @deprecated From @nestjs/event-emitter: `publishAndWait` always waits for a handler's promise. Remove it. */
  promisify?: boolean;
  /** @deprecated From @nestjs/event-emitter: handlers are scheduled by the bus's queue here. Remove it. */
  nextTick?: boolean;
  /** @deprecated From @nestjs/event-emitter (what `on()` returns): no meaning for a decorator. Remove it. */
  objectify?: boolean;
  /** @deprecated From @nestjs/event-emitter: a handler's error never reaches the publisher here. Remove it. */
  suppressErrors?: true;
  /** Not supported: use `priority` (higher starts first among one event's handlers). */
  prependListener?: never;
}

const NO_OP_KEYS = ['async', 'promisify', 'nextTick', 'objectify', 'suppressErrors', 'prependListener'] as const;

/**
 * The handler options without event-emitter's keys, and what is wrong with those keys (empty when
 * nothing). Options without any of those keys come back as the same object.
 */
export function withoutEventEmitterOptions(options: HandlerOptions & EventEmitterHandlerOptions): {
  options: HandlerOptions;
  problems: string[];
} {
  if (typeof options !== 'object' || options === null) return { options, problems: [] };
  if (!NO_OP_KEYS.some((key) => key in options)) return { options, problems: [] };
  const problems: string[] = [];
  const legacy = options as Record<string, unknown>;
  if (legacy.async === false) {
    problems.push('async: false (from @nestjs/event-emitter) cannot be kept: handlers never run inside publish; remove it');
  }
  if (legacy.suppressErrors === false) {
    problems.push(
      'suppressErrors: false (from @nestjs/event-emitter) cannot be kept: a handler error never reaches the publisher; ' +
        "remove it and read publishAndWait's report.failed, or subscribe to EventBus.errors$",
    );
  }
  if (legacy.prependListener !== undefined) {
    problems.push(
      'prependListener (from @nestjs/event-emitter) is not supported: use priority (higher starts first among one event\'s handlers), e.g. { priority: 10 }',
    );
  }
  const rest: Record<string, unknown> = { ...legacy };
  for (const key of NO_OP_KEYS) delete rest[key];
  return { options: rest as HandlerOptions, problems };
}
