import type { BusInstrumentationFactory } from './bus-instrumentation.js';

/**
 * Finds the telemetry implementation at start-up without a static import of the optional peer:
 * `telemetry: false` loads nothing; otherwise lib/opentelemetry (the `nestjs-event-bus/opentelemetry`
 * entry) is imported, and if @opentelemetry/api is not installed that import fails to resolve the peer,
 * before any of its code runs, and the bus runs without telemetry.
 */
export async function loadInstrumentation(telemetry: unknown): Promise<BusInstrumentationFactory | undefined> {
  // A value other than a boolean is reported with the other module options (validateModuleOptions).
  if (telemetry !== undefined && telemetry !== true) return undefined;
  try {
    const { openTelemetryInstrumentation } = await import('../opentelemetry/index.js');
    return openTelemetryInstrumentation;
  } catch (error) {
    if (isMissingOpenTelemetryApi(error)) return undefined;
    throw error;
  }
}

/** Node: ERR_MODULE_NOT_FOUND "Cannot find package '@opentelemetry/api' ..."; CommonJS / Jest: "Cannot find module". */
function isMissingOpenTelemetryApi(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /Cannot find (package|module) '@opentelemetry\/api'/.test(message);
}
