import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { ConsoleSpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';

/**
 * OTEL_CONSOLE=1: what a NodeSDK set-up does, with console exporters: spans printed as they end, metrics
 * every OTEL_METRIC_EXPORT_INTERVAL ms (default 10000). Registered before the Nest application is created,
 * so the bus finds the providers (it reads the meter provider when it is built). A real service would use
 * @opentelemetry/sdk-node with an OTLP exporter and @opentelemetry/instrumentation-http instead.
 */
export function startConsoleSdk(serviceName: string): () => Promise<void> {
  const resource = resourceFromAttributes({ 'service.name': serviceName });
  const tracerProvider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() })] });
  const interval = Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 10_000);
  const meterProvider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: interval })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  return async () => {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  };
}
