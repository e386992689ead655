import type { PoisonReason } from './poison-message.error.js';

/**
 * Why a message went to the dead letters: a handler kept failing ('handler-failed'), it was delivered
 * too often without an acknowledgement ('max-deliveries'), or it could not be handled at all.
 */
export type DeadLetterReason = 'handler-failed' | 'max-deliveries' | PoisonReason;

/** One dead letter: why, the error, and the handler (`Class.method`) for handler failures. */
export interface DeadLetter {
  reason: DeadLetterReason;
  error: unknown;
  handler?: string;
}

const MAX_ERROR_LENGTH = 2000;

/** The error as one bounded line (`Name: message`), fit for a header or a stream field. */
export function describeDeadLetterError(error: unknown): string {
  const flat = describeError(error).replace(/[\r\n]+/g, ' ');
  return flat.length > MAX_ERROR_LENGTH ? `${flat.slice(0, MAX_ERROR_LENGTH)}...` : flat;
}

/** An error as one readable string (`Name: message`). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
