import 'reflect-metadata';
import { BackpressureError } from '../../../lib/index.js';
import { createApp, deferred, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 4: maxQueued counts every accepted, unfinished delivery, also the ones waiting for
// a concurrency slot. The publisher yields between chunks, so dispatch moves queued events into the
// handler's slot queue: that must not make room for more.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

async function publishUntilRefused(testApp: TestApp, name: string, max: number): Promise<{ accepted: number; refusedWith: unknown }> {
  let accepted = 0;
  for (let i = 0; i < max; i++) {
    try {
      testApp.events.publish(name, i);
      accepted++;
    } catch (error) {
      return { accepted, refusedWith: error };
    }
    if (i % 50 === 49) await yieldToLoop();
  }
  return { accepted, refusedWith: undefined };
}

describe('issue 11 defect 4: maxQueued is not bypassed by concurrency-limited handlers', () => {
  it('maxQueued: 100 with a blocked concurrency: 1 handler refuses the 101st unfinished delivery', async () => {
    app = await createApp({}, { logger: false, maxQueued: 100, shutdownTimeoutMs: 1000 });
    const blocker = deferred();
    app.bus.on('serial.job', () => blocker.promise, { concurrency: 1 });
    const { accepted, refusedWith } = await publishUntilRefused(app, 'serial.job', 20_000);
    blocker.resolve();
    expect(refusedWith).toBeInstanceOf(BackpressureError);
    expect(accepted).toBeLessThanOrEqual(100);
  });

  it('the same through the module-wide concurrency default', async () => {
    app = await createApp({}, { logger: false, maxQueued: 100, concurrency: 1, shutdownTimeoutMs: 1000 });
    const blocker = deferred();
    app.bus.on('serial.job', () => blocker.promise);
    const { accepted, refusedWith } = await publishUntilRefused(app, 'serial.job', 20_000);
    blocker.resolve();
    expect(refusedWith).toBeInstanceOf(BackpressureError);
    expect(accepted).toBeLessThanOrEqual(100);
  });
});
