// Property: random programs ended by app.close() while work is queued or running, with and without
// the shutdown timeout firing (handlers that never settle, slow ones, retries with backoff, slots).
// Once close() resolved: nothing of the bus runs, every promise it returned has settled, publish throws
// EventBusClosedError; without a timeout every accepted event was fully delivered first.
// Run alone: node --import ./test/nats/support/register-ts.mjs <this file>
import '../support/process-errors.js';
import fc from 'fast-check';
import { configArb, opArb, SETTLING_STYLES } from '../support/arbitraries.js';
import { runProgram } from '../support/program.js';
import { isMain, runAndReport, type SuiteProperty } from '../support/run-property.js';
import type { WorldConfig } from '../support/world.js';

const neverSettles = (config: WorldConfig) =>
  [...config.listeners.map((l) => l.behaviour), ...(config.providers ? Object.values(config.providerBehaviours) : [])].some((b) => b.okStyle === 'never');

const config = fc
  .tuple(
    configArb({ okStyles: [...SETTLING_STYLES, 'never'] }),
    // PROPERTY_AVOID=shortShutdown: only closes that wait for everything (see ../support/arbitraries.ts).
    process.env.PROPERTY_AVOID?.includes('shortShutdown') ? fc.constant(10_000) : fc.constantFrom(5, 30, 10_000),
  )
  // A handler that never settles is only generated where the shutdown timeout ends it.
  .map(([c, shutdownTimeoutMs]) => ({ ...c, shutdownTimeoutMs: neverSettles(c) ? Math.min(shutdownTimeoutMs, 30) : shutdownTimeoutMs }));

const program = fc.record({ config, ops: fc.array(opArb(), { minLength: 1, maxLength: 20 }) });

export const property: SuiteProperty = {
  name: 'shutdown',
  defaultRuns: 600,
  property: fc.asyncProperty(program, async ({ config, ops }) => {
      const violations = await runProgram(config, ops, { end: 'close' });
      if (violations.length !== 0) throw new Error(violations.join('\n'));
    }),
};

if (isMain(import.meta.url)) await runAndReport([property]);
