import type { HandlerOptions } from './handler-options.interface.js';
import type { RetryPolicy } from './retry-policy.interface.js';

/** One entry of `EventBus.handlers()`: a topology view of what is subscribed to what. */
export interface RegisteredHandler {
  /** The name or pattern string, the symbol, or the event class's name. */
  event: string | symbol;
  /** `'Class.method'`, or the listener's name for `on()`. */
  handler: string;
  /** The options as declared on `@OnEvent` / `on()`. */
  options: HandlerOptions;
  /** What applies once module defaults are merged in (`concurrency` undefined = unlimited). */
  effective: { retry: RetryPolicy | undefined; concurrency: number | undefined; priority: number };
}
