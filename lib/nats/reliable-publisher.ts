import type { LoggerService } from '@nestjs/common';
import {
  createInbox,
  InvalidArgumentError,
  InvalidSubjectError,
  PermissionViolationError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { FifoQueue } from '../fifo-queue.js';

/** One message to publish until the server acknowledges it. */
export interface OutgoingMessage {
  readonly subject: string;
  readonly headers: MsgHdrs;
  readonly body: Uint8Array | string;
}

interface PendingPublish {
  message: OutgoingMessage;
  resolve: () => void;
  reject: (error: unknown) => void;
  failures: number;
  refusals: number;
  /** Publish order, so what is re-sent together (on reconnect) goes out in the order it was published. */
  order: number;
  /** When the current attempt was sent (for the acknowledgement timeout). */
  sentAt: number;
  /** When the first copy went to a connected server (0: none yet); re-sends stop a margin before the duplicate window ends. */
  firstSentAt: number;
  /** Gives up after this long since it was published (dead letters: the caller then frees the message). */
  giveUpAfterMs: number;
  publishedAt: number;
}

export interface PublishLimits {
  /** Reject with PublishAbortedError when not acknowledged this long after `publish` (default: keep trying while open). */
  giveUpAfterMs?: number;
}

/** A server that refuses a message outright (not a timeout or a lost connection) is asked this many times. */
const MAX_REFUSALS = 5;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;
/** No acknowledgement after this long: sent again (the message id makes a second copy harmless). */
const ACK_TIMEOUT_MS = 5000;

/**
 * The publisher stopped (the transport closed) before the server acknowledged the message, or gave up
 * re-sending it (its `giveUpAfterMs`, or the stream's duplicate window: a copy sent later could be stored twice).
 */
export class PublishAbortedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PublishAbortedError';
  }
}

/** JetStream answered the publish with an error (e.g. the stream's limits refuse it). */
export class PublishRefusedError extends Error {
  constructor(
    readonly code: number,
    readonly errCode: number | undefined,
    description: string,
  ) {
    super(`JetStream refused the message: ${description} (${code}${errCode === undefined ? '' : `/${errCode}`})`);
    this.name = 'PublishRefusedError';
  }
}

class AckTimeoutError extends Error {
  constructor(ms: number) {
    super(`no acknowledgement from JetStream within ${ms}ms`);
    this.name = 'AckTimeoutError';
  }
}

class NoStreamError extends Error {
  constructor(subject: string) {
    super(`no stream answered for ${subject} (stream missing, or JetStream unavailable)`);
    this.name = 'NoStreamError';
  }
}

/**
 * Publishes to JetStream and retries until the server acknowledges: timeouts, lost connections and a
 * missing stream are retried with backoff for as long as the transport is open; an explicit refusal by
 * the server is retried a few times, then reported. At most `window` publishes wait for an
 * acknowledgement at once; the rest queue here.
 *
 * Acknowledgements come back on one wildcard inbox subscription, matched by a token in the reply subject,
 * with one sweeping timer for timeouts: the JetStream client's request-per-publish path allocates a
 * request object, a timer, promises and an error object for every message, which under load costs more
 * than the publish itself. This is JetStream's own asynchronous-publish protocol (publish with a reply
 * subject, the stream answers with a PubAck).
 */
export class ReliablePublisher {
  private readonly queue = new FifoQueue<PendingPublish>();
  /** Publishes waiting to be retried, by their timer. */
  private readonly retrying = new Map<NodeJS.Timeout, PendingPublish>();
  private readonly awaiting = new Map<string, PendingPublish>();
  private active = 0;
  private stopped: string | undefined;
  private idleWaiters: (() => void)[] = [];
  private nextToken = 0;
  private sweeper: NodeJS.Timeout | undefined;
  private readonly decoder = new TextDecoder();
  /** Set once connected, so a publish does not wait a promise turn for the connection. */
  private nc: NatsConnection | undefined;
  private replyPrefix = '';
  private replySubscription: Subscription | undefined;
  /**
   * False while the client is reconnecting. The client discards its outbound buffer when it reconnects,
   * so what is published then is held here instead, and sent (with every publish still awaiting its
   * acknowledgement) as soon as the connection is back.
   */
  private connected = true;
  private held: PendingPublish[] = [];
  private nextOrder = 0;
  /** Re-sends stop this long after the first copy was sent (set from the stream's duplicate window). */
  private resendWindowMs = Infinity;

  constructor(
    private readonly connection: () => Promise<NatsConnection>,
    private readonly window: number,
    private readonly logger: () => LoggerService | undefined,
    private readonly ackTimeoutMs = ACK_TIMEOUT_MS,
  ) {}

  /** Publishes waiting for an acknowledgement, queued ones included. */
  get pending(): number {
    return this.active + this.queue.length;
  }

  /**
   * Bounds re-sends by the stream's duplicate window: JetStream drops a second copy of a message id only
   * within it, so a copy sent after it could be stored twice. Re-sending stops one acknowledgement
   * timeout before the window ends; the publish then rejects (it may or may not have been stored).
   */
  boundResends(duplicateWindowMs: number): void {
    this.resendWindowMs = Math.max(this.ackTimeoutMs, duplicateWindowMs - this.ackTimeoutMs);
  }

  publish(message: OutgoingMessage, limits: PublishLimits = NO_LIMITS): Promise<void> {
    if (this.stopped !== undefined) return Promise.reject(new PublishAbortedError(this.stopped));
    return new Promise((resolve, reject) => {
      const item: PendingPublish = {
        message,
        resolve,
        reject,
        failures: 0,
        refusals: 0,
        order: this.nextOrder++,
        sentAt: 0,
        firstSentAt: 0,
        giveUpAfterMs: limits.giveUpAfterMs ?? Infinity,
        publishedAt: limits.giveUpAfterMs === undefined ? 0 : Date.now(),
      };
      if (this.active < this.window) {
        this.active++;
        this.attempt(item);
      } else {
        this.queue.push(item);
      }
    });
  }

  /** Resolves when every publish so far was acknowledged or given up. */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Gives up on what is still waiting (after the close timeout); each such publish rejects with `reason`. */
  stop(reason: string): number {
    this.stopped = reason;
    const abandoned = this.pending;
    for (const [timer, item] of this.retrying) {
      clearTimeout(timer);
      this.finish(item, new PublishAbortedError(reason));
    }
    this.retrying.clear();
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const item of this.awaiting.values()) this.finish(item, new PublishAbortedError(reason));
    this.awaiting.clear();
    for (const item of this.held.splice(0)) this.finish(item, new PublishAbortedError(reason));
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) item.reject(new PublishAbortedError(reason));
    this.replySubscription?.unsubscribe();
    return abandoned;
  }

  private attempt(item: PendingPublish): void {
    if (this.stopped !== undefined) {
      this.finish(item, new PublishAbortedError(this.stopped));
      return;
    }
    if (this.nc === undefined) {
      this.connection().then(
        (nc) => {
          this.useConnection(nc);
          this.attempt(item);
        },
        (error: unknown) => this.failed(item, error),
      );
      return;
    }
    const expired = this.expiry(item);
    if (expired !== undefined) {
      this.finish(item, expired);
      return;
    }
    if (!this.connected) {
      this.held.push(item);
      return;
    }
    const token = (this.nextToken++).toString(36);
    item.sentAt = Date.now();
    if (item.firstSentAt === 0) item.firstSentAt = item.sentAt;
    this.awaiting.set(token, item);
    try {
      const { subject, body, headers } = item.message;
      this.nc.publish(subject, body, { headers, reply: `${this.replyPrefix}${token}` });
    } catch (error) {
      this.awaiting.delete(token);
      this.failed(item, error);
      return;
    }
    this.sweeper ??= setInterval(this.sweep, Math.min(1000, this.ackTimeoutMs));
  }

  private useConnection(nc: NatsConnection): void {
    if (this.nc !== undefined) return;
    this.nc = nc;
    this.replyPrefix = `${createInbox()}.`;
    // The client re-subscribes after a reconnect; replies lost meanwhile end as timeouts and are retried.
    this.replySubscription = nc.subscribe(`${this.replyPrefix}*`, { callback: (error, msg) => this.onReply(error, msg) });
    void this.watchConnection(nc);
  }

  private async watchConnection(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      else if (status.type === 'reconnect') this.resendAll();
    }
  }

  /**
   * Back from an outage: the client dropped whatever was buffered and acknowledgements in flight are
   * lost, so everything still waiting is sent again now, in publish order (a copy the server did store
   * is dropped by its message id), rather than one acknowledgement timeout later.
   */
  private resendAll(): void {
    this.connected = true;
    if (this.stopped !== undefined) return;
    const again = [...this.awaiting.values(), ...this.held.splice(0)].sort((a, b) => a.order - b.order);
    this.awaiting.clear();
    for (const item of again) this.attempt(item);
  }

  /** Why `item` must not be sent again, if so. */
  private expiry(item: PendingPublish): PublishAbortedError | undefined {
    const now = Date.now();
    if (item.publishedAt !== 0 && now - item.publishedAt > item.giveUpAfterMs) {
      return new PublishAbortedError(`not acknowledged by JetStream within ${item.giveUpAfterMs}ms`);
    }
    if (item.firstSentAt !== 0 && now - item.firstSentAt > this.resendWindowMs) {
      return new PublishAbortedError(
        `not acknowledged by JetStream within ${this.resendWindowMs}ms of the first copy; another copy could outlast the stream's ` +
          'duplicate_window and be stored twice, so it was not re-sent (it may or may not be stored). Raise duplicate_window to re-send for longer.',
      );
    }
    return undefined;
  }

  private onReply(error: Error | null, msg: Msg): void {
    if (error !== null) {
      this.logger()?.error?.(`The JetStream acknowledgement subscription failed: ${String(error)}`);
      return;
    }
    const token = msg.subject.slice(this.replyPrefix.length);
    const item = this.awaiting.get(token);
    // Unknown: a late answer to an attempt already timed out and retried. The retry has its own token.
    if (item === undefined) return;
    this.awaiting.delete(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      this.failed(item, new NoStreamError(item.message.subject));
      return;
    }
    let ack: { stream?: string; error?: { code: number; err_code?: number; description: string } };
    try {
      ack = JSON.parse(this.decoder.decode(msg.data)) as typeof ack;
    } catch {
      this.failed(item, new Error(`unreadable acknowledgement from JetStream: ${this.decoder.decode(msg.data).slice(0, 200)}`));
      return;
    }
    if (ack.error !== undefined) {
      item.refusals++;
      this.failed(item, new PublishRefusedError(ack.error.code, ack.error.err_code, ack.error.description));
    } else if (typeof ack.stream === 'string' && ack.stream !== '') {
      this.finish(item, undefined);
    } else {
      this.failed(item, new Error('JetStream acknowledgement without a stream'));
    }
  }

  private readonly sweep = (): void => {
    if (this.awaiting.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
      return;
    }
    if (!this.connected) {
      // Nothing can be acknowledged while disconnected, and a copy sent now would only join the one
      // already waiting in the client's buffer (flushed on reconnect): the outage does not count.
      const now = Date.now();
      for (const item of this.awaiting.values()) item.sentAt = now;
      return;
    }
    const expired = Date.now() - this.ackTimeoutMs;
    for (const [token, item] of this.awaiting) {
      if (item.sentAt > expired) continue;
      this.awaiting.delete(token);
      this.failed(item, new AckTimeoutError(this.ackTimeoutMs));
    }
  };

  private failed(item: PendingPublish, error: unknown): void {
    if (this.stopped !== undefined) {
      this.finish(item, new PublishAbortedError(this.stopped));
      return;
    }
    if (isPermanent(error) || item.refusals >= MAX_REFUSALS) {
      this.finish(item, error);
      return;
    }
    const expired = this.expiry(item);
    if (expired !== undefined) {
      this.finish(item, new PublishAbortedError(`${expired.message}; last error: ${String(error)}`));
      return;
    }
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** item.failures);
    if (item.failures === 0 || item.failures % 10 === 0) {
      this.logger()?.warn?.(`Publishing to ${item.message.subject} failed (${String(error)}); retrying in ${delay}ms.`);
    }
    item.failures++;
    const timer = setTimeout(() => {
      this.retrying.delete(timer);
      this.attempt(item);
    }, delay);
    this.retrying.set(timer, item);
  }

  private finish(item: PendingPublish, error: unknown): void {
    this.active--;
    if (error === undefined) item.resolve();
    else item.reject(error);
    const next = this.stopped === undefined ? this.queue.shift() : undefined;
    if (next !== undefined) {
      this.active++;
      this.attempt(next);
    } else if (this.active === 0 && this.idleWaiters.length !== 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

const NO_LIMITS: PublishLimits = {};

/** Failures no retry can fix: a message over the server's max_payload, an invalid subject, no permission. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof InvalidArgumentError ||
    error instanceof InvalidSubjectError ||
    error instanceof PermissionViolationError ||
    error instanceof TypeError
  );
}
