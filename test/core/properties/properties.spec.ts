import { failureOf, PROPERTY_NAMES, PROPERTY_SUITE_TIMEOUT_MS, runPropertySuite, type PropertyOutcome } from './support/property-child.js';

// Issue 11, model-based: each property and its model live in programs/<name>.ts and support/ and run
// in one child process (programs/all.ts). PROPERTY_RUNS / PROPERTY_RUNS_FACTOR / PROPERTY_TIME_LIMIT_MS
// tune a run; a failure prints the PROPERTY_SEED / PROPERTY_PATH that replay it (support/property-child.ts).
const WHAT: Record<(typeof PROPERTY_NAMES)[number], string> = {
  delivery:
    'random programs (before and after init; names, classes, patterns; on/off; every return/throw style; retries, concurrency, priority, filters; scoped providers; publishAndWait, waitFor, drain) match the model',
  shutdown:
    'random programs ended by close(), with and without the shutdown timeout: nothing runs after close() resolved, every promise settled, nothing accepted is lost without a timeout',
  backpressure: 'with maxQueued, accepted-but-unfinished events never exceed the bound; refusals are BackpressureError and never delivered',
  flood: 'under a flood, with or without follow-ups (handlers, events$ subscribers, retries), every event is delivered once and interval timers keep firing',
};

let suite: Promise<Map<string, PropertyOutcome>>;
beforeAll(() => {
  suite = runPropertySuite();
  // Awaited by the tests; a failed start-up must not also surface as an unhandled rejection.
  suite.catch(() => undefined);
});

describe.each(PROPERTY_NAMES)('property %s', (name) => {
  it(
    WHAT[name],
    async () => {
      const outcome = (await suite).get(name);
      expect(failureOf(name, outcome)).toBeUndefined();
      expect(outcome!.runs).toBeGreaterThan(0);
    },
    PROPERTY_SUITE_TIMEOUT_MS,
  );
});
