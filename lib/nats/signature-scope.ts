import { PoisonMessageError } from './errors.js';

/**
 * What a signature is bound to beyond the envelope: the stream and subject the message was published
 * to (a copy replayed into another stream or under another subject does not verify) and the time it was
 * signed, checked against the time the server stored it, so a message captured and replayed after the
 * stream's duplicate window (when JetStream no longer drops it by its id) is refused as 'expired'.
 *
 * A copy is signed each time it is sent (re-sends included), so an honest message is stored within
 * moments of its signature. `maxAgeMs + 2 * clockSkewMs` must not exceed the duplicate window: then a
 * replay is either dropped by its id or too old, whatever the publisher's clock is off by (up to
 * `clockSkewMs` against the server's).
 */
export class SignatureScope {
  constructor(
    readonly stream: string,
    readonly maxAgeMs: number,
    readonly clockSkewMs: number,
  ) {}

  /** The signed prefix: stream, subject and signing time. */
  context(subject: string, signedAt: string): string {
    return `v2\n${this.stream}\n${subject}\n${signedAt}\n`;
  }

  /** Throws 'expired' when the message was signed too long before the server stored it (or in its future). */
  checkFreshness(signedAt: string, storedAtMs: number | undefined): void {
    const signed = Number(signedAt);
    if (signedAt === '' || !Number.isSafeInteger(signed)) {
      throw new PoisonMessageError('malformed', 'missing or invalid Eb-Signed-At header (milliseconds since the epoch expected)');
    }
    // No server timestamp (the message did not come from the stream): nothing to compare with.
    if (storedAtMs === undefined) return;
    const age = storedAtMs - signed;
    if (age > this.maxAgeMs + this.clockSkewMs || age < -this.clockSkewMs) {
      throw new PoisonMessageError(
        'expired',
        `signed ${age}ms before the server stored it (allowed: up to ${this.maxAgeMs}ms, with ${this.clockSkewMs}ms clock skew): ` +
          "a replayed message, or the publisher's clock is off",
      );
    }
  }
}
