import type { LoggerService } from '@nestjs/common';
import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import { InvalidArgumentError, InvalidSubjectError, PermissionViolationError, type MsgHdrs } from '@nats-io/transport-node';
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
}

/** A server that refuses a message outright (not a timeout or a lost connection) is asked this many times. */
const MAX_REFUSALS = 5;
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5000;

/** The publisher stopped (the transport closed) before the server acknowledged the message. */
export class PublishAbortedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PublishAbortedError';
  }
}

/**
 * Publishes to JetStream and retries until the server acknowledges: timeouts, lost connections and a
 * missing stream are retried with backoff for as long as the transport is open; an explicit refusal by
 * the server is retried a few times, then reported. At most `window` publishes wait for an
 * acknowledgement at once; the rest queue here, so a flood of `publish()` calls does not open a
 * request per event.
 */
export class ReliablePublisher {
  private readonly queue = new FifoQueue<PendingPublish>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private active = 0;
  private stopped: string | undefined;
  private idleWaiters: (() => void)[] = [];

  /** Set once connected, so a publish does not wait a promise turn for the client. */
  private js: JetStreamClient | undefined;

  constructor(
    private readonly client: () => Promise<JetStreamClient>,
    private readonly window: number,
    private readonly logger: () => LoggerService | undefined,
  ) {}

  /** Publishes waiting for an acknowledgement, queued ones included. */
  get pending(): number {
    return this.active + this.queue.length;
  }

  publish(message: OutgoingMessage): Promise<void> {
    if (this.stopped !== undefined) return Promise.reject(new PublishAbortedError(this.stopped));
    return new Promise((resolve, reject) => {
      const item = { message, resolve, reject };
      if (this.active < this.window) this.run(item);
      else this.queue.push(item);
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
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    let abandoned = 0;
    for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
      abandoned++;
      item.reject(new PublishAbortedError(reason));
    }
    return abandoned + this.active;
  }

  private run(item: PendingPublish): void {
    this.active++;
    this.attempt(item, 0, 0);
  }

  private attempt(item: PendingPublish, failures: number, refusals: number): void {
    if (this.stopped !== undefined) {
      this.finish(item, new PublishAbortedError(this.stopped));
      return;
    }
    const { subject, body } = item.message;
    const sent =
      this.js !== undefined
        ? this.js.publish(subject, body, { headers: item.message.headers })
        : this.client().then((js) => {
            this.js = js;
            return js.publish(subject, body, { headers: item.message.headers });
          });
    sent.then(
        () => this.finish(item, undefined),
        (error: unknown) => {
          if (isPermanent(error)) {
            this.finish(item, error);
            return;
          }
          const refused = error instanceof JetStreamApiError;
          if (this.stopped !== undefined || (refused && refusals + 1 >= MAX_REFUSALS)) {
            this.finish(item, this.stopped !== undefined ? new PublishAbortedError(this.stopped) : error);
            return;
          }
          const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures);
          if (failures === 0 || failures % 10 === 0) {
            this.logger()?.warn?.(`Publishing to ${item.message.subject} failed (${String(error)}); retrying in ${delay}ms.`);
          }
          const timer = setTimeout(() => {
            this.retryTimers.delete(timer);
            this.attempt(item, failures + 1, refused ? refusals + 1 : refusals);
          }, delay);
          this.retryTimers.add(timer);
        },
      );
  }

  private finish(item: PendingPublish, error: unknown): void {
    this.active--;
    if (error === undefined) item.resolve();
    else item.reject(error);
    const next = this.queue.shift();
    if (next !== undefined) this.run(next);
    else if (this.active === 0 && this.idleWaiters.length !== 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

/** Failures no retry can fix: a message over the server's max_payload, an invalid subject, no permission. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof InvalidArgumentError ||
    error instanceof InvalidSubjectError ||
    error instanceof PermissionViolationError ||
    error instanceof TypeError
  );
}
