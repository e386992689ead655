import { EventBusError } from '../errors.js';

/** Why a received message cannot be handled, as recorded in its dead letter. */
export type PoisonReason = 'malformed' | 'too-large' | 'unsigned' | 'forged' | 'expired';

/**
 * Why a received message cannot be handled (not a valid envelope, over the size limit, unsigned,
 * forged, or signed too long before it was stored: a replay). Such a message goes to the dead letters with this message as its reason, never to a handler.
 */
export class PoisonMessageError extends EventBusError {
  constructor(
    readonly reason: PoisonReason,
    detail: string,
  ) {
    super(detail);
  }
}
