import 'reflect-metadata';
import { createApp, deferred, type TestApp } from '../../support/create-app.js';
import { turns } from '../support/outcome.js';

// Issue 11, defect 13: off() (or the remover on() returned) stops the listener: runs already waiting
// for its concurrency slot do not start any more.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('issue 11 defect 13: off() and runs waiting for the listener concurrency slot', () => {
  it.each(['off()', 'the remover'])('after %s, waiting runs never start; drain() resolves', async (how) => {
    app = await createApp({});
    const blocker = deferred();
    const started: number[] = [];
    const listener = async (n: number) => {
      started.push(n);
      await blocker.promise;
    };
    const remove = app.bus.on('serial', listener, { concurrency: 1 });
    for (let n = 1; n <= 4; n++) app.events.publish('serial', n);
    await turns();
    expect(started).toEqual([1]);
    if (how === 'off()') app.bus.off('serial', listener);
    else remove();
    blocker.resolve();
    await app.bus.drain();
    expect(started).toEqual([1]);
  });
});
