import type { LoggerService } from '@nestjs/common';
import type { Dispatcher } from './dispatch/dispatcher.js';
import { errorMessage } from './dispatch/failure-reporter.js';
import type { PublishAdmission } from './publishing/publish-admission.js';
import { withTimeout } from './timers.js';
import type { EventTransport } from './transport/event-transport.interface.js';
import type { OutboundSends } from './transport/outbound-sends.js';

/** A wait that can be withdrawn (so a wait that timed out leaves nothing behind). */
export interface CancellableWait {
  promise: Promise<void>;
  cancel: () => void;
}

/**
 * When the bus is settled (nothing queued, running or being sent) and how it shuts down: refuse new
 * publishes, close the transport, wait up to `shutdownTimeoutMs` for what is left, then give up on the
 * rest (logged by handler) so that nothing of the bus runs once `close()` resolved.
 */
export class BusShutdown {
  private shutdownPromise: Promise<void> | undefined;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly admission: PublishAdmission,
    private readonly transport: EventTransport | undefined,
    private readonly sends: OutboundSends | undefined,
    private readonly logger: LoggerService,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once no send is in flight and the dispatcher is idle at the same time. */
  whenSettled(): CancellableWait {
    let cancelled = false;
    let cancelIdle = (): void => undefined;
    const wait = async (): Promise<void> => {
      for (;;) {
        if (this.sends !== undefined) await this.sends.whenSettled();
        if (cancelled) return new Promise<void>(() => undefined);
        const idle = this.dispatcher.whenIdle();
        cancelIdle = idle.cancel;
        await idle.promise;
        if (cancelled) return new Promise<void>(() => undefined);
        if ((this.sends === undefined || this.sends.size === 0) && this.dispatcher.isIdle) return;
      }
    };
    return {
      promise: wait(),
      cancel: () => {
        cancelled = true;
        cancelIdle();
      },
    };
  }

  unfinishedCount(): number {
    let total = this.sends?.size ?? 0;
    for (const n of this.dispatcher.unfinishedByHandler().values()) total += n;
    return total;
  }

  shutdown(): Promise<void> {
    return (this.shutdownPromise ??= this.run());
  }

  private async run(): Promise<void> {
    this.admission.closing = true;
    if (!this.admission.started && this.dispatcher.queued !== 0) {
      this.logger.warn(
        `${this.dispatcher.queued} events were published but never delivered: the application was closed before it was initialised.`,
      );
      // They can never be delivered: do not wait shutdownTimeoutMs for them.
      this.dispatcher.abandon('the application was closed before it was initialised');
    }
    const deadline = Date.now() + this.timeoutMs;
    if (this.transport !== undefined) {
      try {
        await withTimeout(this.transport.close(), this.timeoutMs, () => new Error(`timed out after ${this.timeoutMs}ms`));
      } catch (error) {
        this.logger.error(`Transport ${this.transport.name} did not close cleanly: ${errorMessage(error)}`);
      }
    }
    const settled = this.whenSettled();
    const finished = await withTimeout(settled.promise, Math.max(0, deadline - Date.now()), () => undefined).then(
      () => true,
      () => false,
    );
    if (!finished) {
      settled.cancel();
      const unfinished = this.dispatcher.unfinishedByHandler();
      const total = [...unfinished.values()].reduce((a, b) => a + b, 0) + (this.sends?.size ?? 0);
      const detail = [...unfinished].map(([label, n]) => `${label}: ${n}`).join(', ');
      this.logger.error(`Shutdown timed out after ${this.timeoutMs}ms: ${total} handler runs did not finish (${detail}).`);
      this.dispatcher.abandon(`the shutdown timeout (${this.timeoutMs}ms) passed before its handlers finished`);
    }
    this.admission.stopped = true;
    this.dispatcher.context.disable();
  }
}
