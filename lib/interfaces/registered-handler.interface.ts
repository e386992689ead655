import type { HandlerOptions } from './handler-options.interface.js';

/** One entry of `EventBus.handlers()`: a topology view of what is subscribed to what. */
export interface RegisteredHandler {
  /** The name or pattern string, the symbol, or the event class's name. */
  event: string | symbol;
  /** `'Class.method'`, or the listener's name for `on()`. */
  handler: string;
  options: HandlerOptions;
}
