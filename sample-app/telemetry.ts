import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The sample's OpenTelemetry set-up, loaded only when asked for: without @opentelemetry/api installed
 * (or with TELEMETRY=off) nothing of it is imported, as the library itself does.
 */

/** OTEL_CONSOLE=1 registers tracer and meter providers that print to the console; returns their shutdown. */
export async function startSampleTelemetry(env: NodeJS.ProcessEnv, serviceName: string): Promise<(() => Promise<void>) | undefined> {
  if (env.OTEL_CONSOLE !== '1') return undefined;
  const { startConsoleSdk } = await import('./telemetry/console-sdk.js');
  return startConsoleSdk(serviceName);
}

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** A SERVER span per HTTP request, when telemetry is on and @opentelemetry/api is installed. */
export async function loadHttpServerSpans(enabled: boolean): Promise<Middleware | undefined> {
  if (!enabled) return undefined;
  try {
    const { httpServerSpans } = await import('./telemetry/http-server-spans.js');
    return httpServerSpans();
  } catch (error) {
    if (/Cannot find (package|module) '@opentelemetry\/api'/.test(String(error))) return undefined;
    throw error;
  }
}
