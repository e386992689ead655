import { matchesDeadLetterFilter } from '../dead-letters/dead-letter-filter.js';
import { REDRIVE_OF_HEADER, type DeadLetterFilter, type DeadLetterRecord, type RedriveResult } from '../dead-letters/dead-letter.interface.js';
import type { DeadLetterStore, Redeliver } from '../dead-letters/dead-letter-store.interface.js';
import { describeDeadLetterError } from '../transport/dead-letter-record.js';
import type { TransportHost } from '../transport/event-transport.interface.js';
import type { FieldEnvelopeCodec } from '../transport/field-envelope-codec.js';
import type { WireEnvelope } from '../transport/wire-envelope.js';
import { DEAD_LETTER_FIELD } from './dead-letter-entry.js';
import type { RedisConnections } from './redis-connections.js';
import type { ResolvedRedisOptions } from './redis-streams-transport.options.js';

/** Set on a dead letter made by a redrive that failed again: the entry id of the one redriven. */
export const REDRIVE_OF_FIELD = 'dl-redrive-of';
const DL_PREFIX = 'dl-';
/** How long a redrive claim is kept: far longer than a dead letter is redriven twice by mistake. */
const CLAIM_TTL_S = 30 * 24 * 3600;

export interface RedisDeadLetterStoreContext {
  connections: () => RedisConnections;
  options: Readonly<ResolvedRedisOptions>;
  codec: FieldEnvelopeCodec;
  host: () => TransportHost | undefined;
}

/**
 * The dead letters of one group in `{<stream>}:<deadLetterStream>` (ids are entry ids). A redrive first
 * claims the dead letter with `SET {<stream>}:redriven:<group>:<id> NX`, which succeeds once only, so a dead
 * letter is delivered again at most once, even when several instances redrive it at the same moment.
 * Delivered (or dead-lettered again), it leaves the stream.
 */
export class RedisDeadLetterStore implements DeadLetterStore {
  constructor(private readonly context: RedisDeadLetterStoreContext) {}

  async list(filter: DeadLetterFilter, limit: number): Promise<DeadLetterRecord[]> {
    const found: DeadLetterRecord[] = [];
    const end = filter.until === undefined ? '+' : `${filter.until.getTime() - 1}`;
    const start = filter.since === undefined ? '-' : `${filter.since.getTime()}`;
    let upper = end;
    while (found.length < limit) {
      const rows = (await this.client.xrevrange(this.context.options.deadLetterKey, upper, start, 'COUNT', 200)) as [string, string[]][];
      for (const [id, fields] of rows) {
        const parsed = this.parse(id, fields);
        if (parsed !== undefined && matchesDeadLetterFilter(parsed.record, filter)) found.push(parsed.record);
        if (found.length >= limit) break;
      }
      if (rows.length < 200) break;
      upper = `(${rows[rows.length - 1][0]}`;
    }
    return found;
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    return (await this.stored(id))?.record;
  }

  async redrive(id: string, redeliver: Redeliver): Promise<RedriveResult> {
    const { options } = this.context;
    const claimKey = `{${options.stream}}:redriven:${options.group}:${id}`;
    const stored = await this.stored(id);
    if (stored === undefined) return { id, outcome: (await this.client.exists(claimKey)) === 1 ? 'already-redriven' : 'not-found' };
    const host = this.context.host();
    if (host === undefined) return { id, outcome: 'not-redrivable', detail: 'the Redis Streams transport has not started yet' };
    if (!stored.record.redrivable || stored.wire === undefined) return { id, outcome: 'not-redrivable', detail: stored.problem };
    const envelope = host.restoreEnvelope(stored.wire);
    if ((await this.client.set(claimKey, new Date().toISOString(), 'EX', CLAIM_TTL_S, 'NX')) !== 'OK') return { id, outcome: 'already-redriven' };
    const handler = stored.record.handler!;
    let report;
    try {
      report = await redeliver(envelope, new Set([handler]), { [REDRIVE_OF_HEADER]: id });
    } catch (error) {
      await this.client.del(claimKey);
      return { id, outcome: 'not-redrivable', detail: String(error) };
    }
    if (report.handled === 0 && report.failed.length === 0) {
      await this.client.del(claimKey);
      return { id, outcome: 'not-redrivable', detail: `${handler} did not run: it is not registered for this event here, or its filter declined it` };
    }
    let newDeadLetterId: string | undefined;
    const multi = this.client.multi();
    if (report.failed.length !== 0) {
      const fields = replaceFields(stored.fields, {
        [DEAD_LETTER_FIELD.error]: describeDeadLetterError(report.failed[0].error),
        [DEAD_LETTER_FIELD.deliveries]: '1',
        [REDRIVE_OF_FIELD]: id,
      });
      multi.xadd(options.deadLetterKey, '*', ...fields);
    }
    multi.xdel(options.deadLetterKey, id);
    const results = await multi.exec();
    if (report.failed.length !== 0) newDeadLetterId = String(results?.[0]?.[1]);
    return newDeadLetterId === undefined ? { id, outcome: 'delivered' } : { id, outcome: 'failed-again', newDeadLetterId };
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    const ids: string[] = [];
    let lower = '-';
    for (;;) {
      const rows = (await this.client.xrange(this.context.options.deadLetterKey, lower, '+', 'COUNT', 500)) as [string, string[]][];
      for (const [id, fields] of rows) {
        const parsed = this.parse(id, fields);
        if (parsed !== undefined && matchesDeadLetterFilter(parsed.record, filter)) ids.push(id);
      }
      if (rows.length < 500) break;
      lower = `(${rows[rows.length - 1][0]}`;
    }
    return ids.length === 0 ? 0 : this.client.xdel(this.context.options.deadLetterKey, ...ids);
  }

  private get client() {
    return this.context.connections().commands;
  }

  private async stored(id: string) {
    if (!/^\d+-\d+$/.test(id)) return undefined;
    const rows = (await this.client.xrange(this.context.options.deadLetterKey, id, id)) as [string, string[]][];
    return rows.length === 0 ? undefined : this.parse(id, rows[0][1]);
  }

  /** One of this group's dead letters (others' are undefined), with the event it holds when it can be read. */
  private parse(id: string, fields: string[]): { record: DeadLetterRecord; fields: string[]; wire?: WireEnvelope; problem?: string } | undefined {
    const dl: Record<string, string> = {};
    const original: string[] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i].startsWith(DL_PREFIX)) dl[fields[i]] = fields[i + 1];
      else original.push(fields[i], fields[i + 1]);
    }
    if (dl[DEAD_LETTER_FIELD.group] !== this.context.options.group) return undefined;
    const reason = dl[DEAD_LETTER_FIELD.reason] ?? 'unknown';
    const handler = dl[DEAD_LETTER_FIELD.handler];
    let wire: WireEnvelope | undefined;
    let problem: string | undefined;
    try {
      wire = this.context.codec.decode(original);
    } catch (error) {
      problem = `it cannot be read as an event (${error instanceof Error ? error.message : String(error)})`;
    }
    if (problem === undefined && (reason !== 'handler-failed' || handler === undefined)) problem = `it was dead-lettered as "${reason}", not by a handler that failed`;
    const record: DeadLetterRecord = {
      id,
      eventId: wire?.id ?? '',
      event: wire?.name ?? '',
      ...(handler === undefined ? {} : { handler }),
      group: this.context.options.group,
      reason,
      error: dl[DEAD_LETTER_FIELD.error] ?? '',
      attempts: Number(dl[DEAD_LETTER_FIELD.deliveries]) || 0,
      deadLetteredAt: new Date(Number(id.split('-')[0])).toISOString(),
      ...(wire?.correlationId === undefined ? {} : { correlationId: wire.correlationId }),
      ...(wire?.causationId === undefined ? {} : { causationId: wire.causationId }),
      payload: wire !== undefined ? wire.payload : Object.fromEntries(pairs(original)),
      headers: wire?.headers ?? {},
      ...(dl[REDRIVE_OF_FIELD] === undefined ? {} : { redriveOf: dl[REDRIVE_OF_FIELD] }),
      redrivable: problem === undefined,
    };
    return problem === undefined ? { record, fields, wire } : { record, fields, wire, problem };
  }
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/** The fields with some values replaced (or added at the end). */
function replaceFields(fields: string[], values: Record<string, string>): string[] {
  const out = [...fields];
  const left = new Map(Object.entries(values));
  for (let i = 0; i + 1 < out.length; i += 2) {
    const v = left.get(out[i]);
    if (v !== undefined) {
      out[i + 1] = v;
      left.delete(out[i]);
    }
  }
  for (const [k, v] of left) out.push(k, v);
  return out;
}
