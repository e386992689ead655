import type { EventEnvelope, EventName } from '../event-envelope.js';
import type { EventSelector } from '../event-name.js';

/** A handler that gave up on an event (its last attempt failed): what `recorder.failures()` returns. */
export interface RecordedFailure<TPayload = unknown> {
  /** The event's name. */
  event: EventName;
  /** `'Class.method'`, or the listener's name for `EventBus.on()`. */
  handler: string;
  /** What the last attempt threw or rejected with. */
  error: unknown;
  /** How many attempts were made, the first one included. */
  attempts: number;
  /** The envelope as the last attempt saw it. */
  envelope: EventEnvelope<TPayload>;
}

/** Narrows `recorder.failures()`. */
export interface FailureQuery {
  /** `'OrderListener.handleNewOrder'`, or just the class `'OrderListener'` for all its handlers. */
  handler?: string;
  /** Only failures of events matching this name, pattern or class. */
  event?: EventSelector;
}
