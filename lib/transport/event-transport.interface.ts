import type { LoggerService } from '@nestjs/common';
import type { EventEnvelope } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';

/**
 * The seam between the bus and a broker (NATS JetStream, Redis Streams, ...). With a transport,
 * `publish` hands envelopes to `send`, and local handlers run only for what the transport delivers
 * back through `TransportHost.deliver` (so each consumer group handles each event once).
 */
export interface EventTransport {
  /** A short name for logs, e.g. 'nats'. */
  readonly name: string;
  /**
   * Called synchronously inside `publish`: throw `InvalidEventError` for an envelope this transport
   * cannot carry (unserializable payload, too large, symbol name). Whatever it returns is passed to `send`,
   * so serialization happens once.
   */
  prepare(envelope: EventEnvelope): unknown;
  /**
   * Sends a prepared envelope; resolves once the broker has accepted it. The transport retries
   * transient failures itself; a rejection means the event could not be sent and is logged by the bus.
   */
  send(envelope: EventEnvelope, prepared: unknown): Promise<void>;
  /** Starts consuming once handlers are registered. */
  start(host: TransportHost): Promise<void>;
  /**
   * Graceful stop: stop fetching, let in-flight deliveries finish (or release them to the broker),
   * flush sends that are not yet acknowledged. Called before the bus stops dispatching.
   */
  close(): Promise<void>;
  /** Optional, for telemetry (`messaging.consumer.group.name`): the consumer group this process consumes as. */
  readonly consumerGroup?: string;
  /** Optional, for telemetry: messages this instance is handling now. */
  inFlightMessages?(): number;
  /** Optional, for telemetry: messages of the group not yet delivered to it (undefined when unknown). */
  consumerLag?(): Promise<number | undefined>;
}

export interface TransportDeliveryOptions {
  /** Handlers (`'Class.method'`) already done with this event in an earlier delivery: not run again. */
  skipHandlers?: ReadonlySet<string>;
  /**
   * False when the broker will redeliver the event if a handler still fails after its in-process retries:
   * such failures are then reported on `errors$` with `final: false` and logged as warnings, not
   * dead-lettered. Default true (this delivery is the last chance).
   */
  lastDelivery?: boolean;
  /** How often the broker delivered this message, this delivery included (for telemetry), when known. */
  deliveryCount?: number;
}

/** What the bus offers a transport. */
export interface TransportHost {
  /** The event names and patterns this process has handlers for (strings only; symbols cannot travel). */
  subscriptions(): string[];
  /**
   * Runs the local handlers of an envelope received from the broker, with their retry policies,
   * and resolves when all of them succeeded or were dead-lettered. Never rejects because of a handler.
   * `skipHandlers` names handlers (`'Class.method'`) that already succeeded for this event (redelivery).
   */
  deliver(envelope: EventEnvelope, options?: TransportDeliveryOptions): Promise<DeliveryReport>;
  /**
   * After a delivery in which some handler failed: the local handlers (`'Class.method'`) of this event
   * that are done with it (succeeded, filtered out, or skipped). A transport that redelivers the event
   * passes them as `skipHandlers`, so a retry does not run them again.
   */
  settledHandlers(envelope: EventEnvelope, report: DeliveryReport): string[];
  /** Rebuilds an envelope from its wire fields (class events are revived when their class is known here). */
  restoreEnvelope(fields: {
    id: string;
    name: string;
    payload: unknown;
    occurredAt: number;
    correlationId?: string;
    causationId?: string;
    headers?: Record<string, string>;
  }): EventEnvelope;
  readonly logger: LoggerService;
}
