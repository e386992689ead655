import type { EventEnvelope, EventHeaders } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';

/**
 * The seam between the bus and a telemetry implementation (lib/opentelemetry is the one shipped). The core
 * knows only this interface, never @opentelemetry/api. Without an implementation the bus holds `undefined`
 * and every call site costs one `undefined` check. Each hook may return `undefined` ("not observed") and
 * then the bus does nothing more for that publish, delivery or run.
 */
export interface BusInstrumentation {
  /**
   * Whether anything would be observed right now (a tracer or meter provider is registered). Asked once
   * per dispatch batch: while false, handler runs take the path without telemetry (no `handlerRun` call).
   */
  observing(): boolean;
  /**
   * In `publish` / `publishAndWait`, once the envelope is built and accepted (never for a publish that
   * throws before that), before it is queued or handed to the transport. `travels`: it goes through the
   * transport (false: handled in this process, also with a transport that it does not travel by).
   */
  publish(envelope: EventEnvelope, travels: boolean): PublishObservation | undefined;
  /** A message received from a transport (`TransportHost.deliver`), before its local handlers run. */
  delivery(envelope: EventEnvelope, info: DeliveryInfo): DeliveryObservation | undefined;
  /**
   * One attempt of one handler starts (the first, or a retry). `envelope` is the delivered one (attempt 1:
   * the same object for every attempt and handler of one delivery), `handler` is `'Class.method'`.
   */
  handlerRun(handler: string, envelope: EventEnvelope, attempt: number): HandlerRunObservation | undefined;
}

export interface PublishObservation {
  /** The headers the envelope travels with (its own plus trace context); replace the envelope's headers. */
  readonly headers: EventHeaders;
  /** Queued (in-process), accepted by the broker, or refused (`error`: prepare threw, or the send failed). */
  end(error?: unknown): void;
}

export interface DeliveryInfo {
  /** How often the broker delivered this message, this delivery included, when the transport says. */
  deliveryCount?: number;
}

export interface DeliveryObservation {
  /** Every local handler settled (succeeded, filtered out, or gave up); or, without a report, abandoned at shutdown. */
  end(report: DeliveryReport | undefined, error?: unknown): void;
}

/**
 * How an attempt ended: `failed` (a retry follows), `redelivered` (the last in-process attempt failed and
 * the broker will deliver again), `dead-lettered` (the final failure).
 */
export type HandlerRunOutcome = 'succeeded' | 'filtered' | 'failed' | 'redelivered' | 'dead-lettered';

export interface HandlerRunObservation {
  /** The handler call to use for this attempt, e.g. one that runs it inside the attempt's trace context. */
  wrap<F extends (...args: any[]) => unknown>(invoke: F): F;
  /** Called once per attempt; `error` for the three failure outcomes. */
  end(outcome: HandlerRunOutcome, error?: unknown): void;
}

/** Read on demand (when a metrics reader collects), never on the hot path. */
export interface BusGauges {
  /** Events accepted and not yet dispatched. */
  queueDepth(): number;
  /** Handler runs waiting for a free concurrency slot. */
  waitingRuns(): number;
  /** Messages the transport is handling now; undefined without a transport or when it does not say. */
  transportInFlight(): number | undefined;
  /** Messages of this consumer group not yet delivered; undefined when the transport cannot tell. */
  consumerLag(): Promise<number | undefined>;
}

/** What an implementation learns about the bus it observes. */
export interface InstrumentationContext {
  /** The transport's `name` (e.g. 'nats', 'redis'); undefined for an in-process bus. */
  transport: string | undefined;
  /** The transport's consumer group, when it has one. */
  consumerGroup: string | undefined;
  gauges: BusGauges;
}

/** Builds the instrumentation of one bus (one per Nest application). */
export interface BusInstrumentationFactory {
  create(context: InstrumentationContext): BusInstrumentation | undefined;
}
