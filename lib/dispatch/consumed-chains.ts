import type { Delivery } from './delivery.js';

/**
 * Deliveries received from a transport, by event id, while their handlers run; and the local events
 * published inside such a chain, mapped to the same consumed delivery. An event published with that
 * id as its causation joins the chain: the consumed event is acknowledged only after it (its send, or
 * its local handling) finished, so a crash right after the handlers returned loses no follow-up.
 */
export class ConsumedChains {
  private readonly byEventId = new Map<string, Delivery>();

  /** The consumed delivery the event caused by `causationId` belongs to, while it is not finished. */
  of(causationId: string | undefined): Delivery | undefined {
    return causationId === undefined || this.byEventId.size === 0 ? undefined : this.byEventId.get(causationId);
  }

  /** `eventId` (a consumed event, or a local event of its chain) belongs to `chain` until `leave`. */
  join(eventId: string, chain: Delivery): void {
    this.byEventId.set(eventId, chain);
  }

  leave(eventId: string, chain: Delivery): void {
    if (this.byEventId.get(eventId) === chain) this.byEventId.delete(eventId);
  }

  /** A consumed delivery finished. (Checks the size first: reading an envelope's id builds its string.) */
  finished(delivery: Delivery): void {
    if (this.byEventId.size !== 0) this.leave(delivery.envelope.id, delivery);
  }
}
