import type { EventEnvelope } from './event-envelope.js';
import type { HandlerInvoker } from './handler.js';
import type { HandlerOptions } from './interfaces/handler-options.interface.js';

/** One call of one handler, as a handler middleware sees it. */
export interface HandlerInvocation {
  /** `'Class.method'`, or the listener's name for `on()`. */
  readonly handler: string;
  /** The options the handler was registered with (as `handlers()` lists them). */
  readonly options: HandlerOptions;
  /** The instance the method runs on; undefined for `on()` listeners. */
  readonly instance: object | undefined;
  readonly payload: unknown;
  readonly envelope: EventEnvelope;
}

/**
 * Wraps every handler call (integrations such as the outbox's inbox use it to run a handler inside a
 * database transaction). Call `next()` to run the handler (arguments given to `next` are passed to
 * the handler after the envelope) and return what it returns; a throw or rejection counts as a
 * failure of the handler (retried, dead-lettered) like the handler's own.
 */
export type HandlerMiddleware = (invocation: HandlerInvocation, next: (...extraArgs: unknown[]) => unknown) => unknown;

/** Runs `invoke` through `middlewares`, outermost first. */
export function invokeThroughMiddleware(
  middlewares: readonly HandlerMiddleware[],
  label: string,
  options: HandlerOptions,
  invoke: HandlerInvoker,
): HandlerInvoker {
  return (instance, payload, envelope) => {
    const invocation: HandlerInvocation = { handler: label, options, instance, payload, envelope };
    const step = (index: number, extra: unknown[]): unknown =>
      index === middlewares.length
        ? invoke(instance, payload, envelope, ...extra)
        : middlewares[index](invocation, (...more) => step(index + 1, more.length === 0 ? extra : [...extra, ...more]));
    return step(0, []);
  };
}
