// Property: with maxQueued, accepted-but-unfinished events never exceed the bound (whatever the
// handlers' concurrency and speed), a refused publish throws BackpressureError and that event is never
// delivered, and every accepted one is delivered exactly once.
// Run alone: node --import ./test/nats/support/register-ts.mjs <this file>
import '../support/process-errors.js';
import fc from 'fast-check';
import { configArb, opArb } from '../support/arbitraries.js';
import { runProgram } from '../support/program.js';
import { isMain, runAndReport, type SuiteProperty } from '../support/run-property.js';

const config = fc
  .tuple(configArb({ okStyles: ['microtasks', 'delay', 'promise', 'sync'], followUps: false }), fc.integer({ min: 1, max: 20 }))
  .map(([c, maxQueued]) => ({ ...c, maxQueued }));

const program = fc.record({ config, ops: fc.array(opArb({ toggles: false, publishAndWait: false }), { minLength: 1, maxLength: 25 }) });

export const property: SuiteProperty = {
  name: 'backpressure',
  defaultRuns: 400,
  property: fc.asyncProperty(program, async ({ config, ops }) => {
      const violations = await runProgram(config, ops, { end: 'drain', maxQueued: config.maxQueued });
      if (violations.length !== 0) throw new Error(violations.join('\n'));
    }),
};

if (isMain(import.meta.url)) await runAndReport([property]);
