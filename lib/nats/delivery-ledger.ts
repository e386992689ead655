import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

/** A dead letter still to be written (dead-lettering failed on an earlier delivery). */
export interface PendingLetter {
  reason: 'handler-failed';
  handler: string;
  error: string;
}

/**
 * What the group knows about one event beyond JetStream's delivery count, kept while the event is
 * being retried (written only on a failed or released delivery, never on the happy path).
 */
export interface DeliveryRecord {
  /** The event id this record is about (the key is a digest of it). */
  id: string;
  /** The stream sequence the counts below belong to: another copy of the event starts fresh counts. */
  seq: number;
  /** Deliveries whose handling failed: only these consume the `maxDeliveries` budget. */
  failures: number;
  /** Deliveries given back unfinished at a graceful close. */
  releases: number;
  /** Handlers (`Class.method`) done with the event: not run again, on any instance of the group. */
  settled: string[];
  /** Dead letters that could not be written yet: the next delivery writes them instead of handling. */
  letters?: PendingLetter[];
}

/**
 * The per-group delivery record of events being retried, in a JetStream key-value bucket shared by
 * every instance of every group (keys are `<group>.<digest of the event id>`), with an expiry.
 *
 * JetStream counts every delivery, including the ones a graceful close gave back and the ones of an
 * instance that died: counted that way, rolling restarts would dead-letter healthy messages. With this
 * record, a delivery is one of: a failure (handlers failed), a release (closed while handling), or lost
 * (neither: the instance died or hung past the ack wait) = deliveryCount - 1 - failures - releases.
 */
export class DeliveryLedger {
  private kv: Promise<KV> | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly bucket: string,
    private readonly ttlMs: number,
    private readonly group: string,
    /** As the event stream's (a cluster keeps the records as safe as the events). */
    private readonly replicas: number | undefined,
  ) {}

  /** Creates (or binds to) the bucket. */
  open(): Promise<KV> {
    this.kv ??= this.connection()
      .then((nc) => new Kvm(nc).create(this.bucket, { ttl: this.ttlMs, history: 1, ...(this.replicas === undefined ? {} : { replicas: this.replicas }) }))
      .catch((error: unknown) => {
        this.kv = undefined;
        throw error;
      });
    return this.kv;
  }

  /** The record of this copy of the event (`seq`), or only its settled handlers for another copy. */
  async read(id: string, seq: number): Promise<DeliveryRecord | undefined> {
    const entry = await (await this.open()).get(this.key(id));
    if (entry === null || entry.operation !== 'PUT' || entry.value.length === 0) return undefined;
    const record = JSON.parse(this.decoder.decode(entry.value)) as DeliveryRecord;
    if (record.id !== id) return undefined;
    // Another copy of the same event (published again after the duplicate window): its handlers are done
    // with the event all the same, but its deliveries are not this copy's.
    return record.seq === seq ? record : { id, seq, failures: 0, releases: 0, settled: record.settled };
  }

  async write(record: DeliveryRecord): Promise<void> {
    await (await this.open()).put(this.key(record.id), JSON.stringify(record));
  }

  /** The event is done with (acknowledged or dead-lettered): its record goes (it would expire anyway). */
  async forget(id: string): Promise<void> {
    await (await this.open()).purge(this.key(id));
  }

  private key(id: string): string {
    return `${this.group}.${createHash('sha256').update(id, 'utf8').digest('base64url')}`;
  }
}

export function emptyRecord(id: string, seq: number): DeliveryRecord {
  return { id, seq, failures: 0, releases: 0, settled: [] };
}
