import 'reflect-metadata';
import { EventRecorder } from '../../../lib/testing/index.js';
import { createApp, deferred, RecordingLogger, type TestApp } from '../../support/create-app.js';
import { sleep, track, turns } from '../support/outcome.js';

// Issue 11, defect 7: Node's setTimeout fires at once (after ~1 ms) for a delay above 2^31-1 ms.
// A timeout of Infinity, 2^31 or 3e9 ms must mean "that long", not "now". Each case waits a little
// (a delay, not an assertion) so a timer that fires "at once" has fired, then checks nothing gave up.

const HUGE = [Infinity, 2 ** 31, 3e9];

let app: TestApp | undefined;
let release: (() => void)[] = [];
afterEach(async () => {
  for (const r of release) r();
  release = [];
  await app?.close();
  app = undefined;
});

/** A handler's hold-up, released after the test whatever happened, so close() does not wait on it. */
function blocked() {
  const d = deferred();
  release.push(() => d.resolve());
  return d;
}

describe('issue 11 defect 7: large timeouts do not fire at once', () => {
  it.each(HUGE)('drain(%p) waits for the busy bus instead of timing out', async (timeoutMs) => {
    app = await createApp({});
    const blocker = blocked();
    app.bus.on('busy', () => blocker.promise);
    app.events.publish('busy');
    await turns();
    const drained = track(app.bus.drain(timeoutMs));
    await sleep(50);
    expect(drained.state).toBe('pending');
    blocker.resolve();
    await app.bus.drain();
    await turns();
    expect(drained.state).toBe('resolved');
  });

  it.each(HUGE)('waitFor(event, { timeoutMs: %p }) keeps waiting for the event', async (timeoutMs) => {
    app = await createApp({});
    const waited = track(app.bus.waitFor('late.event', { timeoutMs }));
    await sleep(50);
    expect(waited.state).toBe('pending');
    app.events.publish('late.event');
    await app.bus.drain();
    await turns();
    expect(waited.state).toBe('resolved');
  });

  it('shutdownTimeoutMs: 3e9 waits for the running handler instead of giving up', async () => {
    const logger = new RecordingLogger();
    app = await createApp({}, { logger, shutdownTimeoutMs: 3e9 });
    const blocker = blocked();
    const order: string[] = [];
    app.bus.on('long.job', async function longJob() {
      await blocker.promise;
      order.push('handler finished');
    });
    app.events.publish('long.job');
    await turns();
    const closing = app.close().then(() => order.push('close resolved'));
    app = undefined;
    await sleep(50);
    blocker.resolve();
    await closing;
    expect(order).toEqual(['handler finished', 'close resolved']);
    expect(logger.messages('error').filter((m) => m.includes('timed out'))).toEqual([]);
  });

  it('the testing recorder: waitFor and settle with timeoutMs 3e9 keep waiting', async () => {
    app = await createApp({});
    const recorder = EventRecorder.attach(app.bus);
    const blocker = blocked();
    app.bus.on('busy', () => blocker.promise);
    app.events.publish('busy');
    await turns();
    const waited = track(recorder.waitFor('late.event', { timeoutMs: 3e9 }));
    const settled = track(recorder.settle({ timeoutMs: 3e9 }));
    await sleep(50);
    expect({ waitFor: waited.state, settle: settled.state }).toEqual({ waitFor: 'pending', settle: 'pending' });
    app.events.publish('late.event');
    blocker.resolve();
    await app.bus.drain();
    await turns();
    expect({ waitFor: waited.state, settle: settled.state }).toEqual({ waitFor: 'resolved', settle: 'resolved' });
    recorder.detach();
  });
});
