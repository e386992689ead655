import type { EventEnvelope } from '../event-envelope.js';
import { PoisonMessageError } from './poison-message.error.js';
import type { TransportHost } from './event-transport.interface.js';

/** What a received message decodes to: the fields `TransportHost.restoreEnvelope` takes. */
export interface WireEnvelope {
  id: string;
  name: string;
  payload: unknown;
  occurredAt: number;
  correlationId: string;
  causationId?: string;
  headers?: Record<string, string>;
}

/**
 * The envelope for a decoded message, its class revived when known here. Whatever keeps a message from
 * becoming an envelope (e.g. an event class that cannot take its payload) fails the same way on every
 * delivery, so it surfaces as a PoisonMessageError to be dead-lettered at once, never redelivered.
 */
export function restoreReceived(host: TransportHost, decode: () => WireEnvelope): EventEnvelope {
  try {
    return host.restoreEnvelope(decode());
  } catch (thrown) {
    if (thrown instanceof PoisonMessageError) throw thrown;
    throw new PoisonMessageError('malformed', `the event could not be restored here (${String(thrown)})`);
  }
}
