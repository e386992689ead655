import type { LoggerService } from '@nestjs/common';
import type { EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import type { PublishObservation } from '../instrumentation/bus-instrumentation.js';
import type { EventTransport } from './event-transport.interface.js';

/**
 * Events handed to the transport and not yet accepted by its broker: counted for `maxQueued`, awaited
 * by `drain()` and shutdown, and a failed send is logged once (so `publish()`, which returns before
 * the broker answers, never leaves an unhandled rejection).
 */
export class OutboundSends {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly transport: EventTransport,
    private readonly logger: LoggerService,
  ) {}

  get size(): number {
    return this.inFlight.size;
  }

  /** Serializes synchronously (throws InvalidEventError for what cannot travel), then sends. */
  send(envelope: EventEnvelope, observed?: PublishObservation): Promise<void> {
    let prepared: unknown;
    try {
      prepared = this.transport.prepare(envelope);
    } catch (error) {
      observed?.end(error);
      throw error;
    }
    const sending = this.transport.send(envelope, prepared);
    const tracked: Promise<void> = sending.then(
      () => {
        this.inFlight.delete(tracked);
        observed?.end();
      },
      (error: unknown) => {
        this.inFlight.delete(tracked);
        observed?.end(error);
        this.logger.error(
          `Could not send event ${describeEventName(envelope.name)} (id ${envelope.id}) through ${this.transport.name}: ${String(error)}`,
          error instanceof Error ? error.stack : undefined,
        );
      },
    );
    this.inFlight.add(tracked);
    return sending;
  }

  /** Resolves once every send made so far (and those made meanwhile) settled. */
  async whenSettled(): Promise<void> {
    while (this.inFlight.size !== 0) await Promise.all([...this.inFlight]);
  }
}
