import { ValueType, type Attributes, type Counter, type Histogram, type Meter } from '@opentelemetry/api';
import type { BusGauges } from '../instrumentation/bus-instrumentation.js';
import { ATTR_MESSAGING_CONSUMER_GROUP_NAME, ATTR_MESSAGING_SYSTEM } from './semantic-attributes.js';

/** Metric names (README "Observability" lists them with their attributes). */
export const METRIC = {
  published: 'nestjs_event_bus.published',
  handled: 'nestjs_event_bus.handled',
  failedAttempts: 'nestjs_event_bus.failed_attempts',
  deadLettered: 'nestjs_event_bus.dead_lettered',
  handlerDuration: 'nestjs_event_bus.handler.duration',
  queueDepth: 'nestjs_event_bus.queue.depth',
  waitingRuns: 'nestjs_event_bus.handler.waiting_runs',
  transportInFlight: 'nestjs_event_bus.transport.in_flight',
  consumerLag: 'nestjs_event_bus.consumer.lag',
} as const;

/** The instruments of one bus. Gauges are read only when a metric reader collects. */
export class BusMetrics {
  readonly published: Counter;
  readonly handled: Counter;
  readonly failedAttempts: Counter;
  readonly deadLettered: Counter;
  readonly handlerDuration: Histogram;

  constructor(meter: Meter, gauges: BusGauges, system: string, consumerGroup: string | undefined) {
    this.published = meter.createCounter(METRIC.published, {
      description: 'Events published (accepted by publish; error.type set when the transport refused or failed to send one).',
      unit: '{event}',
      valueType: ValueType.INT,
    });
    this.handled = meter.createCounter(METRIC.handled, {
      description: 'Handler runs that succeeded.',
      unit: '{run}',
      valueType: ValueType.INT,
    });
    this.failedAttempts = meter.createCounter(METRIC.failedAttempts, {
      description: 'Handler attempts that threw or rejected, the last one included.',
      unit: '{attempt}',
      valueType: ValueType.INT,
    });
    this.deadLettered = meter.createCounter(METRIC.deadLettered, {
      description: 'Events a handler gave up on (dead-lettered), by event and handler.',
      unit: '{event}',
      valueType: ValueType.INT,
    });
    this.handlerDuration = meter.createHistogram(METRIC.handlerDuration, {
      description: 'Duration of one handler attempt.',
      unit: 's',
    });
    const busAttributes: Attributes = { [ATTR_MESSAGING_SYSTEM]: system };
    if (consumerGroup !== undefined) busAttributes[ATTR_MESSAGING_CONSUMER_GROUP_NAME] = consumerGroup;
    meter
      .createObservableGauge(METRIC.queueDepth, { description: 'Events accepted and not yet dispatched.', unit: '{event}', valueType: ValueType.INT })
      .addCallback((result) => result.observe(gauges.queueDepth(), busAttributes));
    meter
      .createObservableGauge(METRIC.waitingRuns, {
        description: 'Handler runs waiting for a free concurrency slot.',
        unit: '{run}',
        valueType: ValueType.INT,
      })
      .addCallback((result) => result.observe(gauges.waitingRuns(), busAttributes));
    meter
      .createObservableGauge(METRIC.transportInFlight, {
        description: 'Messages the transport is handling now (transports that report it).',
        unit: '{message}',
        valueType: ValueType.INT,
      })
      .addCallback((result) => {
        const inFlight = gauges.transportInFlight();
        if (inFlight !== undefined) result.observe(inFlight, busAttributes);
      });
    meter
      .createObservableGauge(METRIC.consumerLag, {
        description: "Messages of this consumer group not yet delivered to it (transports whose engine reports it).",
        unit: '{message}',
        valueType: ValueType.INT,
      })
      .addCallback(async (result) => {
        const lag = await gauges.consumerLag().catch(() => undefined);
        if (lag !== undefined) result.observe(lag, busAttributes);
      });
  }
}
