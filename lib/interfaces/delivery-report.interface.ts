import type { EventEnvelope } from '../event-envelope.js';

/** What `publishAndWait` resolves to once every matching handler finished (retries included). */
export interface DeliveryReport<TPayload = unknown> {
  envelope: EventEnvelope<TPayload>;
  /** Handlers that succeeded. Filtered-out handlers count in neither this nor `failed`. */
  handled: number;
  /** Handlers that failed their last attempt (dead-lettered). */
  failed: { handler: string; error: unknown }[];
}
