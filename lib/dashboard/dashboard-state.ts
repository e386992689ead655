import type { DeadLetterRecord } from '../dead-letters/dead-letter.interface.js';
import type { EventRate } from './event-rates.js';

/** Everything the events page shows, also served as JSON (`<path>/api/state`). */
export interface DashboardState {
  /** 'in-process', or the transport's name. */
  transport: string;
  group?: string;
  /** Events (names and patterns) with the handlers subscribed to them. */
  topology: { event: string; kind: 'name' | 'pattern' | 'class'; eventClass?: string; handlers: string[] }[];
  rates: EventRate[];
  rateMinutes: number;
  /** Events waiting for dispatch; per handler its unfinished runs (running, waiting for a slot or a retry, or of queued events). */
  load: { queued: number; handlers: { handler: string; unfinished: number }[] };
  deadLetterSource: string;
  /** The newest first, at most 50. */
  deadLetters: DeadLetterRecord[];
}
