import type { JsMsg } from '@nats-io/jetstream';
import { headers as createHeaders } from '@nats-io/transport-node';
import { describeDeadLetterError, type DeadLetter, type DeadLetterReason } from '../transport/dead-letter-record.js';
import type { OutgoingMessage } from './reliable-publisher.js';

export type { DeadLetter, DeadLetterReason };
export { describeError } from '../transport/dead-letter-record.js';

/** Headers a dead letter carries on top of the original message's own headers. */
export const DEAD_LETTER_HEADER = {
  /** 'handler-failed', 'max-deliveries', 'malformed', 'too-large', 'unsigned', 'forged' or 'expired'. */
  reason: 'Eb-Dead-Letter-Reason',
  error: 'Eb-Dead-Letter-Error',
  /** `Class.method` of the handler that failed (handler failures only). */
  handler: 'Eb-Dead-Letter-Handler',
  /** How many times the message was delivered to the group. */
  deliveries: 'Eb-Dead-Letter-Deliveries',
  group: 'Eb-Dead-Letter-Group',
  originalSubject: 'Eb-Original-Subject',
  /** The original message's Nats-Msg-Id (the event id), when it had one. */
  originalId: 'Eb-Original-Msg-Id',
  originalSequence: 'Eb-Original-Stream-Sequence',
  /**
   * Set when the original body (this many bytes) is not in the dead letter: with the dead-letter headers
   * it would exceed the server's max_payload. Read it from the event stream at Eb-Original-Stream-Sequence.
   */
  bodyOmitted: 'Eb-Dead-Letter-Body-Omitted',
} as const;


const EMPTY = new Uint8Array(0);

/**
 * The dead letter for one received message: its original body and headers (so it can be inspected and
 * replayed), plus why it died. The JetStream message id is derived from the original's stream sequence,
 * group and handler, so dead-lettering again after a crash does not store it twice.
 */
export function deadLetterMessage(subject: string, group: string, msg: JsMsg, letter: DeadLetter, omitBody = false): OutgoingMessage {
  const h = createHeaders();
  const original = msg.headers;
  if (original !== undefined) {
    for (const key of original.keys()) {
      // Nats-* headers steer JetStream (expected stream, message id, ...): they must not apply to the dead letter.
      if (key.toLowerCase().startsWith('nats-')) continue;
      for (const value of original.values(key)) h.append(key, value);
    }
  }
  const sequence = msg.seq;
  const originalId = original?.get('Nats-Msg-Id') ?? '';
  if (originalId !== '') h.set(DEAD_LETTER_HEADER.originalId, originalId);
  h.set('Nats-Msg-Id', `dead-letter:${group}:${sequence}:${letter.handler ?? letter.reason}`);
  h.set(DEAD_LETTER_HEADER.reason, letter.reason);
  h.set(DEAD_LETTER_HEADER.error, describeDeadLetterError(letter.error));
  if (letter.handler !== undefined) h.set(DEAD_LETTER_HEADER.handler, letter.handler);
  h.set(DEAD_LETTER_HEADER.deliveries, String(msg.info.deliveryCount));
  h.set(DEAD_LETTER_HEADER.group, group);
  h.set(DEAD_LETTER_HEADER.originalSubject, msg.subject);
  h.set(DEAD_LETTER_HEADER.originalSequence, String(sequence));
  if (omitBody) h.set(DEAD_LETTER_HEADER.bodyOmitted, String(msg.data.length));
  return { subject, headers: h, body: omitBody ? EMPTY : msg.data };
}
