import { failureOf, PROPERTY_TEST_TIMEOUT_MS, runPropertyFile } from './support/property-child.js';

// Issue 11, model-based: the property and its model live in programs/flood.ts and support/ (run in a child
// process). PROPERTY_RUNS / PROPERTY_RUNS_FACTOR / PROPERTY_TIME_LIMIT_MS tune a run, PROPERTY_SEED
// (+ PROPERTY_PATH) replays a failure. See /work/notes/props.md.
it(
  'under a flood, with or without follow-ups (handlers, events$ subscribers, retries), every event is delivered once and interval timers keep firing',
  async () => {
    const outcome = await runPropertyFile('flood');
    expect(failureOf('flood', outcome)).toBeUndefined();
    expect(outcome.runs).toBeGreaterThan(0);
  },
  PROPERTY_TEST_TIMEOUT_MS,
);
