import { failureOf, PROPERTY_TEST_TIMEOUT_MS, runPropertyFile } from './support/property-child.js';

// Issue 11, model-based: the property and its model live in programs/delivery.ts and support/ (run in a child
// process). PROPERTY_RUNS / PROPERTY_RUNS_FACTOR / PROPERTY_TIME_LIMIT_MS tune a run, PROPERTY_SEED
// (+ PROPERTY_PATH) replays a failure. See /work/notes/props.md.
it(
  'random programs (names, classes, patterns; on/off; every return/throw style; retries, concurrency, priority, filters; scoped providers; publishAndWait, waitFor, drain) match the model',
  async () => {
    const outcome = await runPropertyFile('delivery');
    expect(failureOf('delivery', outcome)).toBeUndefined();
    expect(outcome.runs).toBeGreaterThan(0);
  },
  PROPERTY_TEST_TIMEOUT_MS,
);
