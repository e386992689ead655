import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { EventBus, EventBusModule } from '../../../lib/index.js';
import { createApp, deferred, type TestApp } from '../../support/create-app.js';
import { outcomeWithin, track, turns } from '../support/outcome.js';

// Issue 11, defects 3 and 9 (guarantee 4): once close() resolved nothing of the bus runs any more,
// and every promise the bus returned has settled.

let app: TestApp | undefined;
let release: (() => void)[] = [];
afterEach(async () => {
  for (const r of release) r();
  release = [];
  if (app !== undefined) await outcomeWithin(app.close(), 3000);
  app = undefined;
});

function gate() {
  const d = deferred();
  release.push(() => d.resolve());
  return d;
}

describe('issue 11 defect 3: nothing of the bus runs after app.close() gave up (shutdown timeout)', () => {
  it('runs waiting for a concurrency slot do not start once close() resolved', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 50 });
    const blocker = gate();
    let closed = false;
    const startedAfterClose: number[] = [];
    app.bus.on(
      'slow.job',
      async function slowJob(n: number) {
        if (closed) startedAfterClose.push(n);
        await blocker.promise;
      },
      { concurrency: 1 },
    );
    for (let n = 1; n <= 3; n++) app.events.publish('slow.job', n);
    await turns();
    await app.close();
    closed = true;
    app = undefined;
    blocker.resolve(); // the run that was in flight at the timeout ends now: its slot frees
    await turns(5);
    expect(startedAfterClose).toEqual([]);
  });

  it('a run failing after close() resolved schedules no retry', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 50 });
    const blocker = gate();
    let closed = false;
    const attemptsAfterClose: number[] = [];
    app.bus.on(
      'flaky.job',
      async function flakyJob(_payload: unknown, envelope: { attempt: number }) {
        if (closed) attemptsAfterClose.push(envelope.attempt);
        await blocker.promise;
        throw new Error('failed after the shutdown timeout');
      },
      { retry: { attempts: 3 } },
    );
    app.events.publish('flaky.job');
    await turns();
    await app.close();
    closed = true;
    app = undefined;
    blocker.resolve();
    await turns(10);
    expect(attemptsAfterClose).toEqual([]);
  });
});

describe('issue 11 defect 9: every promise the bus returns settles, also when it abandons the work', () => {
  it('publishAndWait before init(), then close() without init: the promise settles', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [EventBusModule.forRoot({ logger: false })] }).compile();
    const nestApp = moduleRef.createNestApplication({ logger: false });
    const bus = nestApp.get(EventBus);
    const waiting = bus.publishAndWait('early.event');
    await nestApp.close();
    expect((await outcomeWithin(waiting, 2000)).state).not.toBe('never settled');
  });

  it('publishAndWait of runs in flight or waiting for a slot at the shutdown timeout: settled once close() resolved', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 50 });
    const blocker = gate();
    app.bus.on('slot.job', () => blocker.promise, { concurrency: 1 });
    const inFlight = track(app.events.publishAndWait('slot.job', 1));
    const waitingForSlot = track(app.events.publishAndWait('slot.job', 2));
    await turns();
    await app.close();
    app = undefined;
    await turns();
    expect({ inFlight: inFlight.state, waitingForSlot: waitingForSlot.state }).toEqual({
      inFlight: expect.not.stringMatching(/^pending$/),
      waitingForSlot: expect.not.stringMatching(/^pending$/),
    });
  });

  it('drain() and waitFor() still pending when close() gave up have settled once close() resolved', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 50 });
    const blocker = gate();
    app.bus.on('stuck.job', () => blocker.promise);
    app.events.publish('stuck.job');
    await turns();
    const drained = track(app.bus.drain());
    const waited = track(app.bus.waitFor('never.published'));
    await app.close();
    app = undefined;
    await turns();
    expect({ drain: drained.state, waitFor: waited.state }).toEqual({
      drain: expect.not.stringMatching(/^pending$/),
      waitFor: expect.not.stringMatching(/^pending$/),
    });
  });
});
