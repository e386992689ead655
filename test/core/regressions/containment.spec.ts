import 'reflect-metadata';
import { runScenario } from '../support/child-scenario.js';
import { outcomeWithin } from '../support/outcome.js';
import { createApp, type TestApp } from '../../support/create-app.js';

// Issue 11, defects 2 and 11: whatever a handler returns and whatever a subscriber throws stays inside
// the bus. The crash-style cases run in a child process (test/core/regressions/scenarios/) whose
// uncaughtException / unhandledRejection listeners record what escaped, so Jest itself is not hit.

let app: TestApp | undefined;
afterEach(async () => {
  // A broken bus may never finish closing: bounded, so one failure does not hang the suite.
  if (app !== undefined) await outcomeWithin(app.close(), 3000);
  app = undefined;
});

describe('issue 11 defect 2: a handler returning a thenable whose then() throws', () => {
  it('is contained: nothing uncaught, the other handlers run, publishAndWait / drain / close settle', async () => {
    const result = await runScenario('thenable-then-throws');
    expect(result).not.toBe('never settled');
    if (result === 'never settled') return;
    expect(result.uncaught).toEqual([]);
    expect(result.unhandled).toEqual([]);
    // A thenable whose then() (or then getter) throws is that handler's failure; the healthy one ran.
    expect(result.reports).toEqual({
      'odd.then-throws': { handled: 1, failed: ['OddListener.thenThrows'] },
      'odd.then-getter-throws': { handled: 1, failed: ['OddListener.thenGetterThrows'] },
    });
    expect(result.healthySeen).toEqual(['odd.then-throws', 'odd.then-getter-throws']);
    expect(result.failures).toEqual(['odd.then-throws OddListener.thenThrows', 'odd.then-getter-throws OddListener.thenGetterThrows']);
    expect(result.drained).toBe('resolved');
    expect(result.closed).toBe('resolved');
  });

  it('a thenable calling both of its callbacks settles its handler once: counted once, drain() still resolves', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 500 });
    app.bus.on('both', function both() {
      return {
        then(onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) {
          onFulfilled('ok');
          onRejected(new Error('and also failed'));
          onFulfilled('ok again');
        },
      };
    });
    const report = await outcomeWithin(app.events.publishAndWait('both'), 1500);
    expect(report.state).toBe('resolved');
    if (report.state !== 'resolved') return;
    // One handler: exactly one outcome (the first callback wins, as for a promise).
    expect(report.value.handled + report.value.failed.length).toBe(1);
    expect(report.value.handled).toBe(1);
    app.events.publish('both');
    expect((await outcomeWithin(app.bus.drain(), 1500)).state).toBe('resolved');
  });
});

describe('issue 11 defect 11: a throwing events$ / errors$ / deadLetters$ subscriber', () => {
  it('does not crash the process (nothing uncaught) and handlers keep running', async () => {
    const result = await runScenario('throwing-subscriber');
    expect(result).not.toBe('never settled');
    if (result === 'never settled') return;
    expect(result.uncaught).toEqual([]);
    expect(result.unhandled).toEqual([]);
    expect(result.seen).toEqual(['healthy 1', 'healthy 2']);
    expect(result.drained).toBe('resolved');
    expect(result.closed).toBe('resolved');
  });
});
