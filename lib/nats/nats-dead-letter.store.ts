import {
  DeliverPolicy,
  jetstream,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers as createHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { matchesDeadLetterFilter } from '../dead-letters/dead-letter-filter.js';
import { REDRIVE_OF_HEADER, type DeadLetterFilter, type DeadLetterRecord, type RedriveResult } from '../dead-letters/dead-letter.interface.js';
import type { DeadLetterStore, Redeliver } from '../dead-letters/dead-letter-store.interface.js';
import { describeError } from '../dead-letters/in-memory-dead-letter.store.js';
import type { TransportHost } from '../transport/event-transport.interface.js';
import { DEAD_LETTER_HEADER } from './dead-letter-message.js';
import { HEADER, type EnvelopeCodec, type WireEnvelope } from './envelope-codec.js';
import type { ResolvedNatsOptions } from './nats-jetstream-transport.options.js';

/** Set on a dead letter made by a redrive that failed again: the stream sequence of the one redriven. */
export const REDRIVE_OF_NATS_HEADER = 'Eb-Redrive-Of';

export interface NatsDeadLetterStoreContext {
  connection: () => Promise<{ nc: NatsConnection; jsm: JetStreamManager }>;
  options: Readonly<ResolvedNatsOptions>;
  codec: EnvelopeCodec;
  /** The bus, once the transport started (restores class events). */
  host: () => TransportHost | undefined;
}

/** How long one read of the dead-letter stream waits for the messages it was told are there. */
const FETCH_EXPIRES_MS = 5000;

/**
 * The dead letters of one group, read from the transport's dead-letter stream (subject
 * `<deadLetterSubjectPrefix>.<group>`); a dead letter's id is its stream sequence. A redrive first claims
 * the dead letter by writing `<...>.<group>.redriven.<sequence>` with "expected last subject sequence 0",
 * which JetStream accepts once only: so a dead letter is delivered again at most once, even when several
 * instances redrive it at the same moment. Delivered (or dead-lettered again), it leaves the stream.
 */
export class NatsDeadLetterStore implements DeadLetterStore {
  private readonly subject: string;

  constructor(private readonly context: NatsDeadLetterStoreContext) {
    const { deadLetterSubjectPrefix, group } = context.options;
    this.subject = `${deadLetterSubjectPrefix}.${group}`;
  }

  async list(filter: DeadLetterFilter, limit: number): Promise<DeadLetterRecord[]> {
    const newestFirst = (messages: StoredMsg[]) => {
      const found: DeadLetterRecord[] = [];
      for (let i = messages.length - 1; i >= 0 && found.length < limit; i--) {
        const record = this.parse(messages[i]).record;
        if (matchesDeadLetterFilter(record, filter)) found.push(record);
      }
      return found;
    };
    if (filter.since !== undefined) return newestFirst(await this.readAll({ since: filter.since }));
    // The newest first, so only the tail is read: the events page asks every few seconds, and a stream
    // can hold many dead letters (and other groups' ones between them). The tail grows until enough match.
    const { jsm } = await this.context.connection();
    const { first_seq: first, last_seq: last, messages } = (await jsm.streams.info(this.context.options.deadLetterStream)).state;
    if (messages === 0) return [];
    for (let span = Math.max(64, limit * 4); ; span *= 4) {
      const from = Math.max(first, last - span + 1);
      const found = newestFirst(await this.readAll({ from }));
      if (found.length >= limit || from <= first) return found;
    }
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const stored = await this.stored(id);
    return stored === undefined ? undefined : this.parse(stored).record;
  }

  async redrive(id: string, redeliver: Redeliver): Promise<RedriveResult> {
    const { jsm, nc } = await this.context.connection();
    const stored = await this.stored(id);
    const claimSubject = `${this.subject}.redriven.${id}`;
    if (stored === undefined) {
      const claimed = /^\d+$/.test(id) ? await jsm.streams.getMessage(this.context.options.deadLetterStream, { last_by_subj: claimSubject }) : null;
      return { id, outcome: claimed === null ? 'not-found' : 'already-redriven' };
    }
    const host = this.context.host();
    if (host === undefined) return { id, outcome: 'not-redrivable', detail: 'the NATS transport has not started yet' };
    const { record, wire, problem } = this.parse(stored);
    if (!record.redrivable) return { id, outcome: 'not-redrivable', detail: problem };
    let envelopeFields: WireEnvelope | undefined = wire;
    if (stored.header.has(DEAD_LETTER_HEADER.bodyOmitted)) {
      const original = await this.originalBody(jsm, stored);
      if (original === undefined) {
        return { id, outcome: 'not-redrivable', detail: `its body was too large to keep, and the event stream no longer has it` };
      }
      envelopeFields = original;
    }
    const envelope = host.restoreEnvelope(envelopeFields!);
    const js = jetstream(nc);
    try {
      await js.publish(claimSubject, JSON.stringify({ claimedAt: new Date().toISOString() }), { expect: { lastSubjectSequence: 0 } });
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) return { id, outcome: 'already-redriven' };
      throw error;
    }
    const handler = record.handler!;
    let report;
    try {
      report = await redeliver(envelope, new Set([handler]), { [REDRIVE_OF_HEADER]: id });
    } catch (error) {
      await this.unclaim(jsm, claimSubject);
      return { id, outcome: 'not-redrivable', detail: String(error) };
    }
    if (report.handled === 0 && report.failed.length === 0) {
      await this.unclaim(jsm, claimSubject);
      return { id, outcome: 'not-redrivable', detail: `${handler} did not run: it is not registered for this event here, or its filter declined it` };
    }
    let newDeadLetterId: string | undefined;
    if (report.failed.length !== 0) {
      const h = copyHeaders(stored.header);
      h.set('Nats-Msg-Id', `dead-letter:${this.context.options.group}:redrive:${id}`);
      h.set(DEAD_LETTER_HEADER.error, oneLine(describeError(report.failed[0].error)));
      h.set(DEAD_LETTER_HEADER.deliveries, '1');
      h.set(REDRIVE_OF_NATS_HEADER, id);
      const ack = await js.publish(this.subject, stored.data, { headers: h });
      newDeadLetterId = String(ack.seq);
    }
    await jsm.streams.deleteMessage(this.context.options.deadLetterStream, stored.seq, false);
    return newDeadLetterId === undefined ? { id, outcome: 'delivered' } : { id, outcome: 'failed-again', newDeadLetterId };
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    const { jsm } = await this.context.connection();
    const stream = this.context.options.deadLetterStream;
    if (Object.values(filter).every((v) => v === undefined)) {
      const { purged } = await jsm.streams.purge(stream, { filter: this.subject });
      // The redrive claims of letters that are gone serve nothing any more.
      await jsm.streams.purge(stream, { filter: `${this.subject}.redriven.*` });
      return purged;
    }
    let removed = 0;
    for (const stored of await this.readAll({ since: filter.since })) {
      if (!matchesDeadLetterFilter(this.parse(stored).record, filter)) continue;
      if (await jsm.streams.deleteMessage(stream, stored.seq, false).catch(() => false)) removed++;
    }
    return removed;
  }

  /** The dead letter with this id (stream sequence) if it is one of this group's. */
  private async stored(id: string): Promise<StoredMsg | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const { jsm } = await this.context.connection();
    const stored = await jsm.streams.getMessage(this.context.options.deadLetterStream, { seq: Number(id) });
    return stored !== null && stored.subject === this.subject ? stored : undefined;
  }

  /** The dead letters of this group (all, or since a time, or from a stream sequence), oldest first, with an ordered consumer. */
  private async readAll({ since, from }: { since?: Date; from?: number }): Promise<StoredMsg[]> {
    const { nc } = await this.context.connection();
    const consumer = await jetstream(nc).consumers.get(this.context.options.deadLetterStream, {
      filter_subjects: this.subject, // a string: one filter_subject (servers before 2.10 know no list)
      ...(since === undefined ? {} : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: since.toISOString() }),
      ...(from === undefined ? {} : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }),
    });
    const pending = (await consumer.info(true)).num_pending;
    const read: StoredMsg[] = [];
    let done = pending === 0;
    while (!done) {
      const batch = await consumer.fetch({ max_messages: Math.min(1000, pending - read.length), expires: FETCH_EXPIRES_MS });
      // Fewer than counted arrive when some were deleted meanwhile (redriven, purged).
      done = true;
      for await (const msg of batch) {
        const time = new Date(Math.floor(msg.info.timestampNanos / 1e6));
        read.push({
          subject: msg.subject,
          seq: msg.seq,
          header: msg.headers ?? createHeaders(),
          data: msg.data,
          time,
          timestamp: time.toISOString(),
          lastSequence: 0,
          pending: msg.info.pending,
          json: () => msg.json(),
          string: () => msg.string(),
        });
        done = msg.info.pending === 0 || read.length >= pending;
        if (done) break;
      }
    }
    await consumer.delete().catch(() => undefined);
    return read;
  }

  private parse(stored: StoredMsg): { record: DeadLetterRecord; wire?: WireEnvelope; problem?: string } {
    const h = stored.header;
    const reason = h.get(DEAD_LETTER_HEADER.reason) || 'unknown';
    const handler = h.get(DEAD_LETTER_HEADER.handler) || undefined;
    const eventId = h.get(DEAD_LETTER_HEADER.originalId);
    let wire: WireEnvelope | undefined;
    let problem: string | undefined;
    // A dead letter kept without its body (too large) is read from the event stream when redriven.
    const omitted = h.has(DEAD_LETTER_HEADER.bodyOmitted);
    if (!omitted) ({ wire, problem } = this.decodeLetter(h, eventId, stored.data));
    if (problem === undefined && (reason !== 'handler-failed' || handler === undefined)) {
      problem = `it was dead-lettered as "${reason}", not by a handler that failed`;
    }
    const redriveOf = h.get(REDRIVE_OF_NATS_HEADER) || undefined;
    const correlationId = wire?.correlationId;
    const record: DeadLetterRecord = {
      id: String(stored.seq),
      eventId: wire?.id ?? eventId,
      event: wire?.name ?? subjectTail(h.get(DEAD_LETTER_HEADER.originalSubject), this.context.options.subjectPrefix),
      ...(handler === undefined ? {} : { handler }),
      group: h.get(DEAD_LETTER_HEADER.group) || this.context.options.group,
      reason,
      error: h.get(DEAD_LETTER_HEADER.error),
      attempts: Number(h.get(DEAD_LETTER_HEADER.deliveries)) || 0,
      deadLetteredAt: stored.time.toISOString(),
      ...(correlationId === undefined ? {} : { correlationId }),
      ...(wire?.causationId === undefined ? {} : { causationId: wire.causationId }),
      // Undecodable: the raw text, to inspect. Kept without its body: nothing here (the event stream has it).
      payload: wire !== undefined ? wire.payload : omitted ? undefined : new TextDecoder().decode(stored.data),
      headers: wire?.headers ?? {},
      ...(redriveOf === undefined ? {} : { redriveOf }),
      redrivable: problem === undefined,
    };
    return problem === undefined ? { record, wire } : { record, wire, problem };
  }

  /** The event in a dead letter: the original message, with its Nats-Msg-Id (the event id) moved aside. */
  private decodeLetter(h: MsgHdrs, eventId: string, data: Uint8Array): { wire?: WireEnvelope; problem?: string } {
    const original = copyHeaders(h);
    original.set(HEADER.id, eventId);
    try {
      return { wire: this.context.codec.decode({ subject: h.get(DEAD_LETTER_HEADER.originalSubject), headers: original, data }) };
    } catch (error) {
      return { problem: `it cannot be read as an event (${error instanceof Error ? error.message : String(error)})` };
    }
  }

  /** A dead letter kept without its body: the original message, from the event stream. */
  private async originalBody(jsm: JetStreamManager, stored: StoredMsg): Promise<WireEnvelope | undefined> {
    const seq = Number(stored.header.get(DEAD_LETTER_HEADER.originalSequence));
    const original = Number.isSafeInteger(seq) ? await jsm.streams.getMessage(this.context.options.stream, { seq }).catch(() => null) : null;
    if (original === null) return undefined;
    try {
      return this.context.codec.decode({ subject: original.subject, headers: original.header, data: original.data });
    } catch {
      return undefined;
    }
  }

  private async unclaim(jsm: JetStreamManager, claimSubject: string): Promise<void> {
    await jsm.streams.purge(this.context.options.deadLetterStream, { filter: claimSubject }).catch(() => undefined);
  }
}

function copyHeaders(from: MsgHdrs): MsgHdrs {
  const h = createHeaders();
  for (const key of from.keys()) for (const value of from.values(key)) h.append(key, value);
  return h;
}

function subjectTail(subject: string, prefix: string): string {
  return subject.startsWith(`${prefix}.`) ? subject.slice(prefix.length + 1) : subject;
}

/** Header values cannot hold line breaks. */
function oneLine(text: string): string {
  const flat = text.replace(/[\r\n]+/g, ' ');
  return flat.length > 2000 ? `${flat.slice(0, 2000)}...` : flat;
}
