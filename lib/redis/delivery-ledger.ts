import type { Redis } from 'ioredis';

/**
 * What the group knows about one entry beyond Redis's delivery count, kept while the entry is being
 * retried (written only on a failed or released delivery, never on the happy path).
 */
export interface DeliveryRecord {
  /** The event id the entry carries (a record of another entry id is never read for this one). */
  id: string;
  /** Deliveries whose handling failed: only these consume the `maxDeliveries` budget. */
  failures: number;
  /** Deliveries given back unfinished (a graceful close, a follow-up Redis did not store). */
  releases: number;
  /** Handlers (`Class.method`) done with the event: not run again, on any instance of the group. */
  settled: string[];
}

/**
 * The per-group delivery record of entries being retried: one string key per group and entry,
 * `{<stream>}:delivery-state:<group>:<entry id>` (in the stream's hash slot), with an expiry.
 *
 * Redis counts every delivery of a pending entry, including the ones a graceful close gave back and the
 * ones of an instance that died: counted that way, rolling restarts would dead-letter healthy entries.
 * With this record a delivery is one of: a failure, a release, or lost (neither: the instance died or
 * hung past reclaimIdleMs) = deliveryCount - 1 - failures - releases.
 */
export class DeliveryLedger {
  constructor(
    private readonly commands: () => Redis,
    private readonly stream: string,
    private readonly group: string,
    private readonly ttlMs: number,
  ) {}

  /** The record of this entry, if it is about this event. */
  async read(entryId: string, eventId: string): Promise<DeliveryRecord | undefined> {
    const raw = await this.commands().get(this.key(entryId));
    if (raw === null) return undefined;
    let record: Partial<DeliveryRecord>;
    try {
      record = JSON.parse(raw) as Partial<DeliveryRecord>;
    } catch {
      return undefined;
    }
    if (record.id !== eventId || !Number.isInteger(record.failures) || !Number.isInteger(record.releases) || !Array.isArray(record.settled)) {
      return undefined;
    }
    return { id: eventId, failures: record.failures!, releases: record.releases!, settled: record.settled.filter((s) => typeof s === 'string') };
  }

  async write(entryId: string, record: DeliveryRecord): Promise<void> {
    await this.commands().set(this.key(entryId), JSON.stringify(record), 'PX', this.ttlMs);
  }

  /** The entry is done with (acknowledged or dead-lettered): its record goes (it would expire anyway). */
  async forget(entryId: string): Promise<void> {
    await this.commands().del(this.key(entryId));
  }

  key(entryId: string): string {
    return `{${this.stream}}:delivery-state:${this.group}:${entryId}`;
  }
}

export function emptyRecord(id: string): DeliveryRecord {
  return { id, failures: 0, releases: 0, settled: [] };
}
