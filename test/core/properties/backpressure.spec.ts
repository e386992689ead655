import { failureOf, PROPERTY_TEST_TIMEOUT_MS, runPropertyFile } from './support/property-child.js';

// Issue 11, model-based: the property and its model live in programs/backpressure.ts and support/ (run in a child
// process). PROPERTY_RUNS / PROPERTY_RUNS_FACTOR / PROPERTY_TIME_LIMIT_MS tune a run, PROPERTY_SEED
// (+ PROPERTY_PATH) replays a failure. See /work/notes/props.md.
it(
  'with maxQueued, accepted-but-unfinished events never exceed the bound; refusals are BackpressureError and never delivered',
  async () => {
    const outcome = await runPropertyFile('backpressure');
    expect(failureOf('backpressure', outcome)).toBeUndefined();
    expect(outcome.runs).toBeGreaterThan(0);
  },
  PROPERTY_TEST_TIMEOUT_MS,
);
