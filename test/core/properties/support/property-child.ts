import { fileURLToPath } from 'node:url';
import { runChild } from '../../support/child-scenario.js';

/** Jest budget of one property file: its time limit (PROPERTY_TIME_LIMIT_MS) plus start-up and shrinking. */
export const PROPERTY_TEST_TIMEOUT_MS = Number(process.env.PROPERTY_TIME_LIMIT_MS ?? 10_000) * 3 + 30_000;

export interface PropertyOutcome {
  ok: boolean;
  runs?: number;
  seed?: number;
  path?: string;
  error?: string;
  report?: string;
  interrupted?: boolean;
}

/**
 * Runs test/core/properties/programs/<name>.ts in a child process (see run-property.ts): a crash-style
 * failure of the bus (uncaught exception, unhandled rejection) is then one failing program, reported
 * with its seed and shrunk counterexample, instead of an error Jest pins on whichever test runs.
 */
export async function runPropertyFile(name: string): Promise<PropertyOutcome> {
  const result = await runChild(fileURLToPath(new URL(`../programs/${name}.ts`, import.meta.url)), PROPERTY_TEST_TIMEOUT_MS - 5_000);
  if (result === 'never settled') return { ok: false, error: `the ${name} property run never finished` };
  return result as unknown as PropertyOutcome;
}

/** What a failing property reports: the violations of its smallest program, and how to replay it. */
export function failureOf(name: string, outcome: PropertyOutcome): string | undefined {
  if (outcome.ok) return undefined;
  return (
    `${outcome.error ?? 'failed'}\n\nReplay: PROPERTY_SEED=${outcome.seed} PROPERTY_PATH=${outcome.path} ` +
    `node --import ./test/nats/support/register-ts.mjs test/core/properties/programs/${name}.ts\n\n${outcome.report ?? ''}`
  );
}
