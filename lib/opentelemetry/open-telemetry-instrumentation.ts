import {
  context,
  metrics,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  createNoopMeter,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { EventEnvelope, EventHeaders } from '../event-envelope.js';
import type {
  BusInstrumentation,
  BusInstrumentationFactory,
  DeliveryInfo,
  DeliveryObservation,
  HandlerRunObservation,
  HandlerRunOutcome,
  InstrumentationContext,
  PublishObservation,
} from '../instrumentation/bus-instrumentation.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import { BusMetrics } from './bus-metrics.js';
import {
  ATTR_ATTEMPT,
  ATTR_CAUSATION_ID,
  ATTR_CODE_FUNCTION,
  ATTR_CODE_NAMESPACE,
  ATTR_DELIVERY_COUNT,
  ATTR_ERROR_TYPE,
  ATTR_FAILED,
  ATTR_HANDLED,
  ATTR_HANDLER,
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_CONVERSATION_ID,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_OUTCOME,
  DEAD_LETTER_EVENT,
  IN_PROCESS_SYSTEM,
  INSTRUMENTATION_SCOPE,
} from './semantic-attributes.js';

/** What the global (proxy) tracer provider delegates to while no SDK registered one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True while a tracer provider is registered. Checked per publish / delivery / attempt (two property
 * reads and a call), so that with the API installed but no SDK the bus creates no span objects and
 * copies no headers: the no-op API would still allocate a non-recording span per call.
 */
function tracingRegistered(): boolean {
  const provider = trace.getTracerProvider() as Partial<ProxyTracerProvider>;
  return typeof provider.getDelegate !== 'function' || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

/**
 * The OpenTelemetry implementation of the bus's instrumentation seam: messaging spans (PRODUCER `send`,
 * CONSUMER `receive` per transport delivery, CONSUMER `process` per handler attempt), W3C trace context
 * in the envelope headers (through the global propagator), and metrics through the global meter provider.
 */
export class OpenTelemetryBusInstrumentation implements BusInstrumentation {
  private readonly tracer: Tracer;
  /** Undefined when no meter provider was registered when the bus was created (the API has no proxy meter). */
  private readonly metrics: BusMetrics | undefined;
  /** `messaging.system` of what goes through the transport (or everything, without one). */
  private readonly system: string;
  private readonly consumerGroup: string | undefined;
  /** The context of each transport delivery's span, for its handler spans. Entries go at `end`. */
  private readonly deliveries = new WeakMap<EventEnvelope, { context: Context; deliveryCount: number | undefined }>();

  constructor(bus: InstrumentationContext) {
    this.system = bus.transport ?? IN_PROCESS_SYSTEM;
    this.consumerGroup = bus.consumerGroup;
    this.tracer = trace.getTracer(INSTRUMENTATION_SCOPE);
    const meter = metrics.getMeter(INSTRUMENTATION_SCOPE);
    this.metrics = meter === createNoopMeter() ? undefined : new BusMetrics(meter, bus.gauges, this.system, this.consumerGroup);
  }

  publish(envelope: EventEnvelope, travels: boolean): PublishObservation | undefined {
    const metrics = this.metrics;
    const traced = tracingRegistered();
    if (!traced && metrics === undefined) return undefined;
    const destination = eventName(envelope);
    // With a transport, an event that does not travel (module option `travel`) stays in the process.
    const system = travels ? this.system : IN_PROCESS_SYSTEM;
    let span: Span | undefined;
    let headers: EventHeaders = envelope.headers;
    if (traced) {
      const attributes: Attributes = {
        [ATTR_MESSAGING_SYSTEM]: system,
        [ATTR_MESSAGING_OPERATION_NAME]: 'send',
        [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
        [ATTR_MESSAGING_DESTINATION_NAME]: destination,
        [ATTR_MESSAGING_MESSAGE_ID]: envelope.id,
        [ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]: envelope.correlationId,
      };
      if (envelope.causationId !== undefined) attributes[ATTR_CAUSATION_ID] = envelope.causationId;
      const active = context.active();
      span = this.tracer.startSpan(`send ${destination}`, { kind: SpanKind.PRODUCER, attributes }, active);
      // The send span is the message's creation context (one message per send): consumers link to it.
      const carrier: Record<string, string> = { ...envelope.headers };
      propagation.inject(trace.setSpan(active, span), carrier);
      headers = carrier;
    }
    return {
      headers,
      end(error?: unknown): void {
        if (span !== undefined) {
          if (error !== undefined) recordError(span, error);
          span.end();
        }
        if (metrics !== undefined) {
          const attributes: Attributes = { [ATTR_MESSAGING_SYSTEM]: system, [ATTR_MESSAGING_DESTINATION_NAME]: destination };
          if (error !== undefined) attributes[ATTR_ERROR_TYPE] = errorType(error);
          metrics.published.add(1, attributes);
        }
      },
    };
  }

  delivery(envelope: EventEnvelope, info: DeliveryInfo): DeliveryObservation | undefined {
    if (!tracingRegistered()) return undefined;
    const destination = eventName(envelope);
    const creation = propagation.extract(ROOT_CONTEXT, envelope.headers);
    const attributes = this.consumerAttributes(envelope, destination, 'receive', true);
    if (info.deliveryCount !== undefined) attributes[ATTR_DELIVERY_COUNT] = info.deliveryCount;
    // Parent and link: the creation context (one message per delivery, so the trace continues; the link
    // is what the conventions require, for tools that follow links).
    const span = this.tracer.startSpan(
      `receive ${destination}`,
      { kind: SpanKind.CONSUMER, attributes, links: creationLinks(creation) },
      creation,
    );
    const deliveries = this.deliveries;
    deliveries.set(envelope, { context: trace.setSpan(creation, span), deliveryCount: info.deliveryCount });
    return {
      end(report: DeliveryReport | undefined, error?: unknown): void {
        deliveries.delete(envelope);
        if (report === undefined) {
          // Abandoned at shutdown (the broker delivers it again).
          recordError(span, error);
          span.end();
          return;
        }
        span.setAttribute(ATTR_HANDLED, report.handled);
        span.setAttribute(ATTR_FAILED, report.failed.length);
        if (report.failed.length !== 0) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: `${report.failed.length} handler(s) failed: ${report.failed.map((f) => f.handler).join(', ')}` });
          span.setAttribute(ATTR_ERROR_TYPE, errorType(report.failed[0].error));
        }
        span.end();
      },
    };
  }

  observing(): boolean {
    return this.metrics !== undefined || tracingRegistered();
  }

  handlerRun(handler: string, envelope: EventEnvelope, attempt: number): HandlerRunObservation | undefined {
    const metrics = this.metrics;
    const traced = tracingRegistered();
    if (!traced && metrics === undefined) return undefined;
    const destination = eventName(envelope);
    // Delivered by the transport, or an event of this process (no transport, or one it does not travel by).
    const delivery = this.deliveries.get(envelope);
    const system = delivery === undefined ? IN_PROCESS_SYSTEM : this.system;
    let span: Span | undefined;
    let spanContext: Context | undefined;
    if (traced) {
      const creation = propagation.extract(ROOT_CONTEXT, envelope.headers);
      const attributes = this.consumerAttributes(envelope, destination, 'process', delivery !== undefined);
      attributes[ATTR_HANDLER] = handler;
      attributes[ATTR_ATTEMPT] = attempt;
      const dot = handler.lastIndexOf('.');
      if (dot > 0) {
        attributes[ATTR_CODE_NAMESPACE] = handler.slice(0, dot);
        attributes[ATTR_CODE_FUNCTION] = handler.slice(dot + 1);
      } else {
        attributes[ATTR_CODE_FUNCTION] = handler;
      }
      if (delivery?.deliveryCount !== undefined) attributes[ATTR_DELIVERY_COUNT] = delivery.deliveryCount;
      // Under the transport delivery's span when there is one, else (in-process) under the publisher's
      // send span; linked to the creation context either way.
      const parent = delivery?.context ?? creation;
      span = this.tracer.startSpan(`process ${destination}`, { kind: SpanKind.CONSUMER, attributes, links: creationLinks(creation) }, parent);
      spanContext = trace.setSpan(parent, span);
    }
    const started = metrics === undefined ? 0 : performance.now();
    return {
      wrap<F extends (...args: any[]) => unknown>(invoke: F): F {
        if (spanContext === undefined) return invoke;
        const active = spanContext;
        // Events the handler publishes (and anything else instrumented it calls) become children of its span.
        return ((...args: unknown[]) => context.with(active, invoke as (...a: unknown[]) => unknown, undefined, ...args)) as F;
      },
      end(outcome: HandlerRunOutcome, error?: unknown): void {
        if (span !== undefined) {
          span.setAttribute(ATTR_OUTCOME, outcome);
          if (error !== undefined) recordError(span, error);
          if (outcome === 'dead-lettered') {
            span.addEvent(DEAD_LETTER_EVENT, { [ATTR_HANDLER]: handler, [ATTR_ATTEMPT]: attempt, [ATTR_ERROR_TYPE]: errorType(error) });
          }
          span.end();
        }
        if (metrics !== undefined) {
          const attributes: Attributes = {
            [ATTR_MESSAGING_SYSTEM]: system,
            [ATTR_MESSAGING_DESTINATION_NAME]: destination,
            [ATTR_HANDLER]: handler,
          };
          metrics.handlerDuration.record((performance.now() - started) / 1000, { ...attributes, [ATTR_OUTCOME]: outcome });
          if (outcome === 'succeeded') metrics.handled.add(1, attributes);
          else if (outcome !== 'filtered') {
            metrics.failedAttempts.add(1, { ...attributes, [ATTR_ERROR_TYPE]: errorType(error), [ATTR_OUTCOME]: outcome });
            if (outcome === 'dead-lettered') metrics.deadLettered.add(1, attributes);
          }
        }
      },
    };
  }

  private consumerAttributes(envelope: EventEnvelope, destination: string, operation: 'receive' | 'process', delivered: boolean): Attributes {
    const attributes: Attributes = {
      [ATTR_MESSAGING_SYSTEM]: delivered ? this.system : IN_PROCESS_SYSTEM,
      [ATTR_MESSAGING_OPERATION_NAME]: operation,
      [ATTR_MESSAGING_OPERATION_TYPE]: operation,
      [ATTR_MESSAGING_DESTINATION_NAME]: destination,
      [ATTR_MESSAGING_MESSAGE_ID]: envelope.id,
      [ATTR_MESSAGING_MESSAGE_CONVERSATION_ID]: envelope.correlationId,
    };
    if (delivered && this.consumerGroup !== undefined) attributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = this.consumerGroup;
    if (envelope.causationId !== undefined) attributes[ATTR_CAUSATION_ID] = envelope.causationId;
    return attributes;
  }
}

/** The factory the bus's loader picks up from this entry point. */
export const openTelemetryInstrumentation: BusInstrumentationFactory = {
  create: (bus) => new OpenTelemetryBusInstrumentation(bus),
};

function eventName(envelope: EventEnvelope): string {
  return typeof envelope.name === 'symbol' ? envelope.name.toString() : envelope.name;
}

function creationLinks(creation: Context): Link[] | undefined {
  const spanContext = trace.getSpanContext(creation);
  return spanContext === undefined ? undefined : [{ context: spanContext }];
}

/** `error.type`: the error's class name, or `_OTHER` for a thrown non-Error (as the conventions say). */
function errorType(error: unknown): string {
  if (error instanceof Error) return error.name !== 'Error' ? error.name : error.constructor.name;
  return '_OTHER';
}

function recordError(span: Span, error: unknown): void {
  // Named by class (an Error subclass that does not set `name` would be recorded as plain "Error").
  span.recordException(error instanceof Error ? { name: errorType(error), message: error.message, stack: error.stack } : String(error));
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}
