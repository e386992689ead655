import { failureOf, PROPERTY_TEST_TIMEOUT_MS, runPropertyFile } from './support/property-child.js';

// Issue 11, model-based: the property and its model live in programs/shutdown.ts and support/ (run in a child
// process). PROPERTY_RUNS / PROPERTY_RUNS_FACTOR / PROPERTY_TIME_LIMIT_MS tune a run, PROPERTY_SEED
// (+ PROPERTY_PATH) replays a failure. See /work/notes/props.md.
it(
  'random programs ended by close(), with and without the shutdown timeout: nothing runs after close() resolved, every promise settled, nothing accepted is lost without a timeout',
  async () => {
    const outcome = await runPropertyFile('shutdown');
    expect(failureOf('shutdown', outcome)).toBeUndefined();
    expect(outcome.runs).toBeGreaterThan(0);
  },
  PROPERTY_TEST_TIMEOUT_MS,
);
