import { AsyncLocalStorage } from 'node:async_hooks';
import type { EventEnvelope } from '../event-envelope.js';
import type { Handler } from '../handler.js';
import { invokeThroughMiddleware, type HandlerMiddleware } from '../handler-middleware.js';

/**
 * Which event's handler is running, so events it publishes get causation and correlation without
 * argument passing. Synchronously that is a field (free); across `await`s an AsyncLocalStorage, unless
 * the application turned it off (`asyncContext: false`: Node 20 turns promise hooks on for the whole
 * process while one is enabled).
 */
export class HandlerContext {
  private readonly storage: AsyncLocalStorage<EventEnvelope> | undefined;
  private syncEnvelope: EventEnvelope | undefined = undefined;
  private syncDepth = 0;
  /**
   * True while a dispatch batch runs: handlers then enter their envelope with one `enterWith` each
   * (the batch restores the outer context when it ends) instead of a `run()` per handler.
   */
  private inBatch = false;
  /** Wrap every handler call, outermost first (EventBus.useHandlerMiddleware). */
  readonly middlewares: HandlerMiddleware[] = [];

  constructor(asyncContext: boolean) {
    this.storage = asyncContext ? new AsyncLocalStorage<EventEnvelope>() : undefined;
  }

  /**
   * The envelope whose handler is running here, if any. `handlersActive` false skips the
   * AsyncLocalStorage lookup: every publish from outside handlers, the common case. (So work a handler
   * leaves running after it settled, fire-and-forget, publishes without causation.)
   */
  current(handlersActive: boolean): EventEnvelope | undefined {
    if (this.syncDepth !== 0) return this.syncEnvelope;
    return handlersActive && this.storage !== undefined ? this.storage.getStore() : undefined;
  }

  /** Calls the handler inside the envelope's context. May throw what the handler throws. */
  invoke(handler: Handler, instance: object | undefined, envelope: EventEnvelope): unknown {
    const outer = this.syncEnvelope;
    this.syncEnvelope = envelope;
    this.syncDepth++;
    const invoke =
      this.middlewares.length === 0 ? handler.invoke : invokeThroughMiddleware(this.middlewares, handler.label, handler.options, handler.invoke);
    try {
      if (this.storage === undefined) return invoke(instance, envelope.payload, envelope);
      if (this.inBatch) {
        this.storage.enterWith(envelope);
        return invoke(instance, envelope.payload, envelope);
      }
      return this.storage.run(envelope, invoke, instance, envelope.payload, envelope);
    } finally {
      this.syncDepth--;
      this.syncEnvelope = outer;
    }
  }

  /**
   * Runs code that is not a handler (subscribers of `events$` / `errors$`) outside any handler's
   * context: what it publishes must not look caused by whichever handler ran last.
   */
  outside(fn: () => void): void {
    const outerSync = this.syncEnvelope;
    const outerDepth = this.syncDepth;
    this.syncEnvelope = undefined;
    this.syncDepth = 0;
    try {
      if (this.storage === undefined || this.storage.getStore() === undefined) fn();
      else this.storage.exit(fn);
    } finally {
      this.syncEnvelope = outerSync;
      this.syncDepth = outerDepth;
    }
  }

  /** A dispatch batch starts: no handler context leaks into it from whoever scheduled it. */
  beginBatch(): EventEnvelope | undefined {
    this.inBatch = true;
    const outer = this.storage?.getStore();
    if (outer !== undefined) this.storage!.enterWith(undefined as unknown as EventEnvelope);
    return outer;
  }

  endBatch(outer: EventEnvelope | undefined): void {
    this.inBatch = false;
    this.storage?.enterWith(outer as EventEnvelope);
  }

  /** An enabled AsyncLocalStorage keeps Node's promise hooks on for the whole process: release it. */
  disable(): void {
    this.storage?.disable();
  }
}
