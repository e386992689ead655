import { context, metrics, propagation, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';

/** A metric reader the test asks for numbers when it wants them (no timer). */
class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

export interface InstalledSdk {
  /** Every span ended so far (exports are asynchronous: flushed first). */
  spans(): Promise<ReadableSpan[]>;
  /** Data points of one metric, as collected now. */
  points(name: string): Promise<DataPoint<number | Histogram>[]>;
  reset(): void;
  uninstall(): Promise<void>;
}

/**
 * The usual SDK set-up a NodeSDK does, with an in-memory span exporter and an on-demand metric reader:
 * tracer and meter providers, AsyncLocalStorage context manager, W3C trace-context propagator.
 */
export function installSdk(options: { metrics?: boolean } = {}): InstalledSdk {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  if (options.metrics !== false) metrics.setGlobalMeterProvider(meterProvider);
  return {
    async spans() {
      await tracerProvider.forceFlush();
      return exporter.getFinishedSpans();
    },
    async points(name) {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length !== 0) throw new Error(`metric collection failed: ${errors.map(String).join('; ')}`);
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) if (metric.descriptor.name === name) return metric.dataPoints as DataPoint<number | Histogram>[];
      }
      return [];
    },
    reset: () => exporter.reset(),
    async uninstall() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/** The value of the data point whose attributes include `match` (0 when there is none). */
export function valueOf(points: DataPoint<number | Histogram>[], match: Attributes): number | Histogram | undefined {
  const point = points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
  return point?.value;
}

export function spanNamed(spans: ReadableSpan[], name: string, match: Attributes = {}): ReadableSpan[] {
  return spans.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.attributes[k] === v));
}

export function parentSpanId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

export function ms(time: HrTime): number {
  return time[0] * 1000 + time[1] / 1e6;
}
