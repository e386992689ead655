import 'reflect-metadata';
import { EventRecorder } from '../../../lib/testing/index.js';
import { createApp, deferred, type TestApp } from '../../support/create-app.js';
import { settledHeapUsed } from '../support/heap.js';

// Issue 11, defects 6 and 10: what the bus keeps per distinct name or per timed-out wait is bounded.
// Heap is measured after full collections, as the growth between a warm-up phase and a much longer
// phase of the same work: a bounded structure is already at its bound after the warm-up, an unbounded
// one keeps growing in proportion (tens of MB here), far above allocation noise.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const MB = 1024 * 1024;

describe('issue 11 defect 6: class instances published under many distinct names', () => {
  it('with a class subscription present, the heap does not grow with the number of distinct names', async () => {
    class Measurement {
      constructor(readonly value: number) {}
    }
    app = await createApp({});
    app.bus.on(Measurement, function onMeasurement() {});
    let name = 0;
    const publishDistinct = async (count: number) => {
      for (let i = 0; i < count; i++) {
        app!.events.publish(`metric.n${name++}`, new Measurement(i));
        if (i % 10_000 === 9_999) await app!.bus.drain();
      }
      await app!.bus.drain();
    };
    await publishDistinct(30_000); // past any reasonable cache bound
    const before = await settledHeapUsed();
    await publishDistinct(100_000);
    const grown = (await settledHeapUsed()) - before;
    expect(Math.round(grown / MB)).toBeLessThan(10);
  });
});

describe('issue 11 defect 10: timed-out waits leak no waiter', () => {
  async function growthOver(calls: number, wait: () => Promise<unknown>): Promise<number> {
    const run = async (n: number) => {
      for (let done = 0; done < n; done += 1000) {
        await Promise.all(Array.from({ length: 1000 }, () => wait().catch(() => undefined)));
      }
    };
    await run(5_000);
    const before = await settledHeapUsed();
    await run(calls);
    return (await settledHeapUsed()) - before;
  }

  it('10,000 drain(timeoutMs) that time out on a busy bus do not grow the heap', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 200 });
    const blocker = deferred();
    app.bus.on('busy', () => blocker.promise);
    app.events.publish('busy');
    const grown = await growthOver(10_000, () => app!.bus.drain(1));
    blocker.resolve();
    expect(Math.round(grown / MB)).toBeLessThan(4);
  });

  it("the testing recorder's waitFor timing out on a busy bus does not grow the heap", async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 200 });
    const recorder = EventRecorder.attach(app.bus);
    const blocker = deferred();
    app.bus.on('busy', () => blocker.promise);
    app.events.publish('busy');
    const grown = await growthOver(10_000, () => recorder.waitFor('never.published', { timeoutMs: 1 }));
    blocker.resolve();
    recorder.detach();
    expect(Math.round(grown / MB)).toBeLessThan(4);
  });
});
