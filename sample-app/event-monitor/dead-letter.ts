/** An event a handler gave up on, as GET /events/dead-letters shows it. */
export interface DeadLetter {
  eventId: string;
  event: string;
  handler: string;
  /** Tries made, the first included. */
  attempts: number;
  error: string;
  correlationId: string;
  payload: unknown;
  failedAt: string;
}
