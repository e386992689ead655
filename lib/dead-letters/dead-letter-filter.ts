import type { DeadLetterFilter, DeadLetterRecord } from './dead-letter.interface.js';

/** True when the record matches every field the filter sets. */
export function matchesDeadLetterFilter(record: DeadLetterRecord, filter: DeadLetterFilter): boolean {
  if (filter.ids !== undefined && !filter.ids.includes(record.id)) return false;
  if (filter.event !== undefined && record.event !== filter.event) return false;
  if (filter.handler !== undefined && record.handler !== filter.handler) return false;
  if (filter.reason !== undefined && record.reason !== filter.reason) return false;
  if (filter.since !== undefined || filter.until !== undefined) {
    const at = Date.parse(record.deadLetteredAt);
    if (filter.since !== undefined && at < filter.since.getTime()) return false;
    if (filter.until !== undefined && at >= filter.until.getTime()) return false;
  }
  return true;
}
