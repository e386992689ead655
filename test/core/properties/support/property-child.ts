import { fileURLToPath } from 'node:url';
import { runChildResults } from '../../support/child-scenario.js';

export const PROPERTY_NAMES = ['delivery', 'shutdown', 'backpressure', 'flood'] as const;

/** Jest budget of the whole suite: each property's time limit (PROPERTY_TIME_LIMIT_MS), start-up, shrinking. */
export const PROPERTY_SUITE_TIMEOUT_MS = Number(process.env.PROPERTY_TIME_LIMIT_MS ?? 10_000) * PROPERTY_NAMES.length * 2 + 60_000;

export interface PropertyOutcome {
  name: string;
  ok: boolean;
  runs?: number;
  ms?: number;
  seed?: number;
  path?: string;
  error?: string;
  report?: string;
  interrupted?: boolean;
}

/**
 * Runs test/core/properties/programs/all.ts (every property, one after the other) in one child
 * process: a crash-style failure of the bus (uncaught exception, unhandled rejection) is then one
 * failing program, reported with its seed and shrunk counterexample, instead of an error Jest pins on
 * whichever test runs. One process for all: the TypeScript start-up is paid once.
 */
export async function runPropertySuite(): Promise<Map<string, PropertyOutcome>> {
  const results = await runChildResults(fileURLToPath(new URL('../programs/all.ts', import.meta.url)), PROPERTY_SUITE_TIMEOUT_MS - 5_000);
  const outcomes = new Map<string, PropertyOutcome>();
  if (results === 'never settled') return outcomes;
  for (const result of results as unknown as PropertyOutcome[]) outcomes.set(result.name, result);
  return outcomes;
}

/** What a failing property reports: the violations of its smallest program, and how to replay it. */
export function failureOf(name: string, outcome: PropertyOutcome | undefined): string | undefined {
  if (outcome === undefined) return `the ${name} property never reported (the suite's child process did not finish)`;
  if (outcome.ok) return undefined;
  return (
    `${outcome.error ?? 'failed'}\n\nReplay: PROPERTY_SEED=${outcome.seed} PROPERTY_PATH=${outcome.path} ` +
    `node --import ./test/nats/support/register-ts.mjs test/core/properties/programs/${name}.ts\n\n${outcome.report ?? ''}`
  );
}
