import fc from 'fast-check';
import { fileURLToPath } from 'node:url';

/** One property of the suite, as programs/<name>.ts exports it. */
export interface SuiteProperty {
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  property: fc.IAsyncPropertyWithHooks<[any]>;
  defaultRuns: number;
}

/**
 * Runs properties one after the other in this child process and prints one `RESULT {json}` line each
 * (read by test/core/properties/support/property-child.ts), then exits, whatever the bus left running.
 */
export async function runAndReport(properties: readonly SuiteProperty[]): Promise<never> {
  for (const { name, property, defaultRuns } of properties) {
    const result = await checkProperty(name, property, defaultRuns);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  process.exit(0);
}

/** True when `moduleUrl` is the file node was started with (a program run on its own). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] === fileURLToPath(moduleUrl);
}

/**
 * Runs one fast-check property. Runs: `defaultRuns`, times PROPERTY_RUNS_FACTOR if set, or exactly
 * PROPERTY_RUNS. PROPERTY_SEED (and PROPERTY_PATH) replay a reported failure.
 */
async function checkProperty<T>(name: string, property: fc.IAsyncPropertyWithHooks<[T]>, defaultRuns: number): Promise<Record<string, unknown>> {
  const runs = process.env.PROPERTY_RUNS !== undefined ? Number(process.env.PROPERTY_RUNS) : Math.round(defaultRuns * Number(process.env.PROPERTY_RUNS_FACTOR ?? 1));
  // A time limit keeps npm test within budget on a loaded machine (the runs done are reported); a
  // failure found before it is still reported, shrunk as far as the limit allowed.
  const parameters: fc.Parameters<[T]> = {
    numRuns: runs,
    endOnFailure: process.env.PROPERTY_SHRINK === '0',
    interruptAfterTimeLimit: Number(process.env.PROPERTY_TIME_LIMIT_MS ?? 10_000),
  };
  if (process.env.PROPERTY_SEED !== undefined) parameters.seed = Number(process.env.PROPERTY_SEED);
  if (process.env.PROPERTY_PATH !== undefined) parameters.path = process.env.PROPERTY_PATH;
  const started = Date.now();
  let result: Record<string, unknown>;
  try {
    const details = await fc.check(property, parameters);
    result = details.failed
      ? { ok: false, runs: details.numRuns, seed: details.seed, path: details.counterexamplePath, error: errorText(details.errorInstance), report: fc.defaultReportMessage(details) }
      : { ok: true, runs: details.numRuns, seed: details.seed, interrupted: details.interrupted };
  } catch (error) {
    result = { ok: false, report: `the property runner failed: ${error instanceof Error ? error.stack : String(error)}` };
  }
  return { name, ms: Date.now() - started, ...result };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
