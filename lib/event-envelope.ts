import type { EventIdGenerator } from './event-id.js';

/** What can name an event: a string (dot-separated segments) or a symbol. */
export type EventName = string | symbol;

/** Headers travel with an event (and across transports, as strings). */
export type EventHeaders = Readonly<Record<string, string>>;

/** Everything a handler learns about one delivery of an event. */
export interface EventEnvelope<TPayload = unknown> {
  /** Unique, time-ordered (string order = creation order). */
  readonly id: string;
  readonly name: EventName;
  readonly payload: TPayload;
  readonly occurredAt: Date;
  /** From publish options, else inherited from the event being handled, else this event's own id. */
  readonly correlationId: string;
  /** The id of the event whose handler published this one; absent outside handlers. */
  readonly causationId?: string;
  /** 1 on the envelope `publish` returns; counts per handler on retries. */
  readonly attempt: number;
  readonly headers: EventHeaders;
}

const NO_HEADERS: EventHeaders = Object.freeze({});

/**
 * The one envelope implementation. It is on the hot path: the id string and the Date are only built
 * when read, so an event nobody inspects costs one small object.
 */
export class Envelope<TPayload = unknown> implements EventEnvelope<TPayload> {
  private cachedId: string | undefined;
  /** Milliseconds since `ids.timeBase` (see EventIdGenerator.timeBase). */
  private readonly timeOffset: number;

  constructor(
    private readonly ids: EventIdGenerator,
    time: number,
    private readonly sequence: number,
    readonly name: EventName,
    readonly payload: TPayload,
    private readonly explicitCorrelationId: string | undefined,
    readonly causationId: string | undefined,
    readonly headers: EventHeaders,
    readonly attempt: number,
    explicitId: string | undefined,
  ) {
    this.timeOffset = time - ids.timeBase;
    this.cachedId = explicitId;
  }

  get id(): string {
    return (this.cachedId ??= this.ids.format(this.timestamp, this.sequence));
  }

  get correlationId(): string {
    return this.explicitCorrelationId ?? this.id;
  }

  /** A new Date on each read: queued envelopes stay small. */
  get occurredAt(): Date {
    return new Date(this.timestamp);
  }

  /** Milliseconds since the epoch: `occurredAt` without building a Date. */
  get timestamp(): number {
    return this.ids.timeBase + this.timeOffset;
  }

  /** The same event as seen by retry number `attempt`. */
  withAttempt(attempt: number): Envelope<TPayload> {
    return new Envelope(
      this.ids,
      this.timestamp,
      this.sequence,
      this.name,
      this.payload,
      this.correlationId,
      this.causationId,
      this.headers,
      attempt,
      this.id,
    );
  }

  /** The same event with other headers (trace context added at publish); the id stays the same. */
  withHeaders(headers: EventHeaders): Envelope<TPayload> {
    return new Envelope(
      this.ids,
      this.timestamp,
      this.sequence,
      this.name,
      this.payload,
      this.explicitCorrelationId,
      this.causationId,
      headers,
      this.attempt,
      this.cachedId,
    );
  }

  /** A plain, JSON-friendly copy (what `JSON.stringify(envelope)` writes). */
  toJSON(): Record<string, unknown> {
    return {
      id: this.id,
      name: typeof this.name === 'symbol' ? this.name.toString() : this.name,
      payload: this.payload,
      occurredAt: this.occurredAt.toISOString(),
      correlationId: this.correlationId,
      ...(this.causationId === undefined ? {} : { causationId: this.causationId }),
      attempt: this.attempt,
      headers: this.headers,
    };
  }

  static emptyHeaders(): EventHeaders {
    return NO_HEADERS;
  }
}

/** An envelope received from elsewhere (a transport): every field already known. */
export function restoreEnvelope<T>(
  ids: EventIdGenerator,
  fields: {
    id: string;
    name: string;
    payload: T;
    occurredAt: number;
    correlationId?: string;
    causationId?: string;
    attempt?: number;
    headers?: EventHeaders;
  },
): Envelope<T> {
  return new Envelope(
    ids,
    fields.occurredAt,
    0,
    fields.name,
    fields.payload,
    fields.correlationId,
    fields.causationId,
    fields.headers ?? NO_HEADERS,
    fields.attempt ?? 1,
    fields.id,
  );
}
