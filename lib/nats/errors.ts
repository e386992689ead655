import { EventBusError } from '../errors.js';

/** A `NatsJetStreamTransport` option that cannot work, or a stream/consumer on the server that does not fit it. */
export class NatsTransportConfigError extends EventBusError {}

/**
 * Why a received message cannot be handled (not a valid envelope, over the size limit, unsigned,
 * forged, or signed too long before it was stored: a replay). Such a message goes to the dead letters with this message as its reason, never to a handler.
 */
export class PoisonMessageError extends EventBusError {
  constructor(
    readonly reason: 'malformed' | 'too-large' | 'unsigned' | 'forged' | 'expired',
    detail: string,
  ) {
    super(detail);
  }
}
