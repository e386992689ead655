import 'reflect-metadata';
import type { EventEnvelope } from '../../../lib/index.js';
import { createApp, deferred, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 12: an events$ subscriber is not a handler. An event it publishes in reaction to an
// event published from outside any handler must not inherit the context of whichever handler ran (or
// published) last. Accepted: no causation, or the observed event as its cause.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('issue 11 defect 12: causationId of events published by an events$ subscriber', () => {
  it('is never the id of an unrelated handled event', async () => {
    app = await createApp({}, { logger: false, shutdownTimeoutMs: 200 });
    const testApp = app;
    const slow = deferred();
    // Keeps a handler in flight, as in any busy application.
    app.bus.on('slow', () => slow.promise);
    // A handler that publishes a follow-up: its context is what leaks.
    app.bus.on('a', function publishesB() {
      testApp.events.publish('b');
    });
    const reactions: { observed: EventEnvelope; published: EventEnvelope }[] = [];
    app.bus.ofEvent('x').subscribe((observed) => {
      reactions.push({ observed, published: testApp.events.publish('x.seen') });
    });
    app.events.publish('slow');
    const handledIds = new Set<string>();
    app.bus.ofEvent('a').subscribe((e) => handledIds.add(e.id));
    app.bus.ofEvent('slow').subscribe((e) => handledIds.add(e.id));
    // Many more events than one dispatch batch, a handler publishing among them.
    for (let i = 0; i < 10_000; i++) app.events.publish(i % 1000 === 0 ? 'a' : 'x', i);
    // While 'slow' is still running, every 'x' gets dispatched (bounded, in case dispatch stalls).
    for (let i = 0; i < 2000 && reactions.length < 9_990; i++) await new Promise((resolve) => setTimeout(resolve, 1));
    expect(reactions).toHaveLength(9_990);
    slow.resolve();
    await app.bus.drain();
    const wrong = reactions.filter((r) => r.published.causationId !== undefined && r.published.causationId !== r.observed.id);
    expect(wrong.length).toBe(0);
    expect(wrong.filter((r) => handledIds.has(r.published.causationId!)).length).toBe(0);
  });
});
