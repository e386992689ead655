// Property: publishes before init() (buffered, in order, maxBufferedBeforeReady), then random programs of publishes (names, classes, subclasses, patterns), on/off while events
// are queued, handlers with every return/throw style, retries, concurrency, priority, filters,
// request-scoped providers, publishAndWait, waitFor and drain, ended by drain() then close(). Checked
// against the model in ../support/checks.ts. Run alone: node --import ./test/nats/support/register-ts.mjs <this file>
import '../support/process-errors.js';
import fc from 'fast-check';
import { configArb, earlyArb, opArb } from '../support/arbitraries.js';
import { runProgram } from '../support/program.js';
import { isMain, runAndReport, type SuiteProperty } from '../support/run-property.js';

const program = fc.record({ config: configArb(), early: earlyArb, ops: fc.array(opArb(), { minLength: 1, maxLength: 25 }) });

export const property: SuiteProperty = {
  name: 'delivery',
  defaultRuns: 600,
  property: fc.asyncProperty(program, async ({ config, early, ops }) => {
      const violations = await runProgram(config, ops, { end: 'drain' }, early);
      if (violations.length !== 0) throw new Error(violations.join('\n'));
    }),
};

if (isMain(import.meta.url)) await runAndReport([property]);
