// `nestjs-event-bus/opentelemetry`: the only entry that imports @opentelemetry/api (an optional peer).
// The bus loads it by itself at start-up (EventBusModule option `telemetry`, default on); import it only
// for the names below.
export { OpenTelemetryBusInstrumentation, openTelemetryInstrumentation } from './open-telemetry-instrumentation.js';
export { METRIC } from './bus-metrics.js';
export * from './semantic-attributes.js';
