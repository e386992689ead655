import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from '../../lib/index.js';
import type { AuditEntry } from './audit-entry.js';

/** The audit entries, in handling order, in memory. */
@Injectable()
export class AuditTrail {
  private readonly entries: AuditEntry[] = [];

  record(envelope: EventEnvelope): void {
    this.entries.push({
      eventId: envelope.id,
      name: String(envelope.name),
      correlationId: envelope.correlationId,
      causationId: envelope.causationId ?? null,
      occurredAt: envelope.occurredAt.toISOString(),
      payload: envelope.payload,
    });
  }

  list(filter: { correlationId?: string } = {}): AuditEntry[] {
    if (filter.correlationId === undefined) return [...this.entries];
    return this.entries.filter((entry) => entry.correlationId === filter.correlationId);
  }
}
