/** One event as the audit trail keeps it. */
export interface AuditEntry {
  eventId: string;
  name: string;
  correlationId: string;
  /** The event whose handler published this one; null for events published outside handlers (HTTP). */
  causationId: string | null;
  occurredAt: string;
  payload: unknown;
}
