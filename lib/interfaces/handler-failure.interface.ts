import type { EventEnvelope } from '../event-envelope.js';

/** One failed attempt of one handler, as emitted on `errors$` (and, when final, on `deadLetters$`). */
export interface HandlerFailure<TPayload = unknown> {
  envelope: EventEnvelope<TPayload>;
  /** `'Class.method'`, or the listener's name for `EventBus.on()`. */
  handler: string;
  error: unknown;
  attempt: number;
  /** True when no retry follows: the event is dead-lettered for this handler. */
  final: boolean;
}
