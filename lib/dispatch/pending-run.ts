import type { EventEnvelope } from '../event-envelope.js';
import type { Handler } from '../handler.js';
import type { Delivery } from './delivery.js';

/**
 * A handler run that is not running right now: waiting for a concurrency slot, waiting for its retry
 * delay, or about to be resumed from the dispatch queue. (A run that starts at once needs no object.)
 */
export class PendingRun {
  constructor(
    readonly handler: Handler,
    /** The envelope as published (attempt 1): scoped instances and reports key on it. */
    readonly envelope: EventEnvelope,
    readonly attempt: number,
    readonly delivery: Delivery | undefined,
    /** True once it holds its handler's concurrency slot (a retry keeps the slot of its first try). */
    readonly holdsSlot: boolean,
  ) {}
}
