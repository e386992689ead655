import { inspect } from 'node:util';
import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import type { RecordedFailure } from './recorded-failure.js';

/** Past this many, a listing shows the most recent ones: a flood would bury the message. */
const MAX_LISTED = 30;
const MAX_PAYLOAD_CHARS = 160;

/** A one-line, bounded preview of a payload for error messages. */
export function previewPayload(payload: unknown): string {
  if (payload === undefined) return '(no payload)';
  const text = inspect(payload, { depth: 3, breakLength: Infinity, compact: true, maxArrayLength: 10, maxStringLength: 80 });
  return text.length > MAX_PAYLOAD_CHARS ? `${text.slice(0, MAX_PAYLOAD_CHARS - 1)}…` : text;
}

/** `"new_order"` for names, `OrderPlaced` for classes: how events are named in messages. */
export function eventLabel(selector: unknown): string {
  return typeof selector === 'string' ? JSON.stringify(selector) : describeEventName(selector);
}

/** The numbered list of recorded events that failure messages end with. */
export function describePublished(events: readonly EventEnvelope[]): string {
  if (events.length === 0) {
    return (
      'Nothing was published (no event was dispatched since the recorder started or since clear()). ' +
      'If the test published before the application was initialised, call `await app.init()` ' +
      '(or `await moduleRef.init()`) before publishing, or use createEventTestingModule(), which does it.'
    );
  }
  const skipped = Math.max(0, events.length - MAX_LISTED);
  const lines = events
    .slice(skipped)
    .map((envelope, i) => `  ${skipped + i + 1}. ${describeEventName(envelope.name)} ${previewPayload(envelope.payload)}`);
  const header = `Published (${events.length} event${events.length === 1 ? '' : 's'}, in order${skipped ? `, last ${MAX_LISTED} shown` : ''}):`;
  return [header, ...lines].join('\n');
}

export function errorSummary(error: unknown): string {
  if (error instanceof Error) {
    // A subclass that does not set `name` still says "Error": its class name is more telling.
    const kind = error.name === 'Error' && error.constructor?.name ? error.constructor.name : error.name;
    return `${kind}: ${error.message}`;
  }
  return previewPayload(error);
}

/** One line per final failure: what failed, in which handler, after how many attempts, and why. */
export function describeFailures(failures: readonly RecordedFailure[]): string {
  return failures
    .map(
      (f) =>
        `  - ${f.handler} on ${describeEventName(f.event)} (id ${f.envelope.id}) failed after ` +
        `${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${errorSummary(f.error)}`,
    )
    .join('\n');
}
