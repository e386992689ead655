import type { EventEnvelope } from '../event-envelope.js';
import type { RetryPolicy } from './retry-policy.interface.js';

/** Options of one `@OnEvent` registration or one `EventBus.on()` listener. */
/** The policy part of handler options, which module options can name (see `policies`). */
export interface HandlerPolicy {
  retry?: RetryPolicy;
  concurrency?: number;
  priority?: number;
}

export interface HandlerOptions<TPayload = any> {
  /**
   * A named policy from the module's `policies` option (so it can come from configuration). Options
   * given here win over the named policy, which wins over the module defaults.
   */
  policy?: string;
  /** Overrides the module's default retry policy for this handler. */
  retry?: RetryPolicy;
  /** Max in-flight runs of this handler (default: module default, else unlimited). 1 = one at a time, in publish order. */
  concurrency?: number;
  /** Higher starts first among one event's handlers. Default 0. */
  priority?: number;
  /** Return false to skip this event. A filter that throws counts as a failure of the handler. */
  filter?: (payload: TPayload, envelope: EventEnvelope<TPayload>) => boolean;
}
