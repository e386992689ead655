import { BackpressureError, BufferOverflowError, EventBusClosedError } from '../errors.js';
import type { EventEnvelope, EventName } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';

/** What admission reads from the rest of the bus. */
export interface AdmissionGauges {
  /** Events queued for dispatch (before start-up: buffered). */
  readonly queued: number;
  /** Accepted events not finished yet (queued, or with handler runs not settled). */
  readonly unfinishedDeliveries: number;
  /** Events handed to a transport and not yet accepted by its broker. */
  readonly unsentCount: number;
}

/**
 * Whether `publish` may accept one more event: refused after shutdown began (except follow-ups of
 * handlers still running), beyond `maxBufferedBeforeReady` before start-up, beyond `maxQueued` after.
 * Refusals throw; an event is never dropped silently.
 */
export class PublishAdmission {
  /** Start-up finished: events are being delivered. */
  started = false;
  /** Shutdown began: publishes from outside handlers are refused. */
  closing = false;
  /** Shutdown finished: every publish is refused. */
  stopped = false;

  constructor(
    private readonly gauges: AdmissionGauges,
    private readonly maxBuffered: number,
    private readonly maxQueued: number,
  ) {}

  admit(name: EventName, parent: EventEnvelope | undefined): void {
    // While shutdown drains, handlers still running may publish their follow-ups (they are drained too).
    if (this.closing && (this.stopped || parent === undefined)) throw new EventBusClosedError(describeEventName(name));
    if (!this.started) {
      if (this.gauges.queued + this.gauges.unsentCount >= this.maxBuffered) throw new BufferOverflowError(describeEventName(name), this.maxBuffered);
    } else if (this.maxQueued !== Infinity && this.gauges.unfinishedDeliveries + this.gauges.unsentCount >= this.maxQueued) {
      throw new BackpressureError(describeEventName(name), this.maxQueued);
    }
  }
}
