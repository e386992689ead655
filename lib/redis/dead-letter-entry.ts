import type { Redis } from 'ioredis';
import { describeDeadLetterError, type DeadLetter } from '../transport/dead-letter-record.js';

/** Fields a dead-letter entry carries after the original entry's own fields. */
export const DEAD_LETTER_FIELD = {
  /** 'handler-failed', 'max-deliveries', 'malformed', 'too-large', 'unsigned' or 'forged'. */
  reason: 'dl-reason',
  error: 'dl-error',
  /** `Class.method` of the handler that failed (handler failures only). */
  handler: 'dl-handler',
  /** The entry's delivery count when it was dead-lettered (the bus's in-process attempts run inside each delivery). */
  deliveries: 'dl-deliveries',
  group: 'dl-group',
  consumer: 'dl-consumer',
  /** The original entry's id in the event stream. */
  entry: 'dl-entry',
  /** Set (to the original fields' size in characters) when the original fields were left out: too large to copy. */
  omitted: 'dl-fields-omitted',
} as const;

/** The fields of one dead-letter entry: the original entry's fields (so it can be inspected and redriven), then why it died. */
export function deadLetterFields(
  original: readonly string[] | null,
  letter: DeadLetter,
  context: { entryId: string; deliveries: number; group: string; consumer: string; maxCopyChars: number },
): string[] {
  const fields: string[] = [];
  let size = 0;
  if (Array.isArray(original)) for (const f of original) size += typeof f === 'string' ? f.length : 0;
  const copy = Array.isArray(original) && original.length % 2 === 0 && size <= context.maxCopyChars;
  if (copy) for (const f of original) fields.push(String(f));
  fields.push(DEAD_LETTER_FIELD.reason, letter.reason, DEAD_LETTER_FIELD.error, describeDeadLetterError(letter.error));
  if (letter.handler !== undefined) fields.push(DEAD_LETTER_FIELD.handler, letter.handler);
  fields.push(
    DEAD_LETTER_FIELD.deliveries,
    String(context.deliveries),
    DEAD_LETTER_FIELD.group,
    context.group,
    DEAD_LETTER_FIELD.consumer,
    context.consumer,
    DEAD_LETTER_FIELD.entry,
    context.entryId,
  );
  if (!copy && size !== 0) fields.push(DEAD_LETTER_FIELD.omitted, String(size));
  return fields;
}

type LetterContext = Parameters<typeof deadLetterFields>[2];

/**
 * Adds the dead letters and acknowledges the entry in one MULTI (both keys share the stream's hash
 * slot): a crash leaves either both done or neither, so a dead letter is never lost nor stored twice.
 */
export async function moveToDeadLetters(
  client: Redis,
  streamKey: string,
  deadLetterKey: string,
  group: string,
  fields: readonly string[] | null,
  letters: readonly DeadLetter[],
  context: LetterContext,
): Promise<void> {
  const multi = client.multi();
  for (const letter of letters) multi.xadd(deadLetterKey, '*', ...deadLetterFields(fields, letter, context));
  multi.xack(streamKey, group, context.entryId);
  const results = await multi.exec();
  const failed = results?.find(([error]) => error !== null);
  if (results === null || failed !== undefined) throw failed?.[0] ?? new Error('the transaction was aborted');
}
