import type { Redis } from 'ioredis';

interface QueuedAdd {
  fields: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

const MAX_PIPELINE = 1000;

/**
 * Sends the XADDs of one event-loop turn as one pipeline: a publish loop costs one round trip per
 * thousand events instead of one per event. Each publish resolves when Redis stored its entry.
 */
export class PublishPipeline {
  private queue: QueuedAdd[] = [];
  private scheduled = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly client: () => Redis,
    private readonly key: string,
  ) {}

  add(fields: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject });
      this.inFlight++;
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Publishes not yet stored by Redis. */
  get pending(): number {
    return this.inFlight;
  }

  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Fails every publish not yet sent (at close, after the timeout). */
  abort(reason: string): number {
    const dropped = this.queue.splice(0);
    for (const q of dropped) this.settle(q, new Error(reason));
    return this.inFlight;
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    while (this.queue.length !== 0) {
      const batch = this.queue.splice(0, MAX_PIPELINE);
      const pipeline = this.client().pipeline();
      for (const q of batch) pipeline.xadd(this.key, '*', ...q.fields);
      pipeline.exec().then(
        (results) => batch.forEach((q, i) => this.settle(q, results?.[i]?.[0] ?? undefined)),
        (error: unknown) => batch.forEach((q) => this.settle(q, error)),
      );
    }
  };

  private settle(q: QueuedAdd, error: unknown): void {
    if (error === undefined || error === null) q.resolve();
    else q.reject(error);
    if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** Acknowledges in batches, one XACK per event-loop turn; a failed XACK is retried (the entries stay pending meanwhile). */
export class AckBatcher {
  private ids: string[] = [];
  private scheduled = false;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: () => Redis,
    private readonly key: string,
    private readonly group: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  ack(id: string): void {
    this.ids.push(id);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Sends what is waiting; resolves when Redis answered (or gave up). */
  flush(): Promise<void> {
    this.scheduled = false;
    const ids = this.ids;
    if (ids.length === 0) return this.sending;
    this.ids = [];
    this.sending = this.client()
      .xack(this.key, this.group, ...ids)
      .then(
        () => undefined,
        (error: unknown) => this.onError(error),
      );
    return this.sending;
  }
}
