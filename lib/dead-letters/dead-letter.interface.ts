/** One dead letter: an event a handler gave up on (or a message that could not be handled at all). */
export interface DeadLetterRecord {
  /** The store's id of this dead letter (in-process: a counter; NATS: the dead-letter stream sequence). */
  id: string;
  /** The id of the event itself. */
  eventId: string;
  event: string;
  /** `Class.method` of the handler that failed; absent for messages no handler saw (malformed, forged, ...). */
  handler?: string;
  /** The consumer group it was dead-lettered in (transports only). */
  group?: string;
  /** 'handler-failed', or a transport's reason ('max-deliveries', 'malformed', 'unsigned', 'forged', ...). */
  reason: string;
  error: string;
  /** In-process: tries of the last run (first included). NATS: deliveries of the message to the group. */
  attempts: number;
  /** ISO time it was dead-lettered. */
  deadLetteredAt: string;
  correlationId?: string;
  causationId?: string;
  payload: unknown;
  headers: Record<string, string>;
  /** Set when this dead letter comes from a redrive that failed again: the id of the one redriven. */
  redriveOf?: string;
  /** True when `redrive` can deliver it (a handler failed in this service, and its event can be rebuilt). */
  redrivable: boolean;
}

/** What `list`, `purge` and `redriveMany` select; every field narrows, none selects everything. */
export interface DeadLetterFilter {
  ids?: readonly string[];
  event?: string;
  handler?: string;
  reason?: string;
  /** Dead-lettered at or after. */
  since?: Date;
  /** Dead-lettered before. */
  until?: Date;
}

export type RedriveOutcome =
  /** Delivered again and every targeted handler succeeded. */
  | 'delivered'
  /** Delivered again, and the handler failed again: a new dead letter (`newDeadLetterId`) replaces this one. */
  | 'failed-again'
  /** Redriven before (or being redriven now): not delivered again. */
  | 'already-redriven'
  | 'not-found'
  /** Cannot be delivered from here (`detail` says why); the dead letter is kept. */
  | 'not-redrivable';

export interface RedriveResult {
  id: string;
  outcome: RedriveOutcome;
  newDeadLetterId?: string;
  detail?: string;
}

/** The envelope header a redriven delivery carries: the id of the dead letter it redrives. */
export const REDRIVE_OF_HEADER = 'eb-redrive-of';
