import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { createApp, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 1: under a flood the event loop keeps turning (guarantee 5), whoever publishes the
// follow-ups: handlers, events$ subscribers. Measured as interval ticks relative to the drain's own
// duration (never a wall-clock threshold): a loop that yields between batches lets a 1 ms interval
// tick about once per batch, a frozen loop lets it tick once for the whole drain.

const EVENTS = 150_000;
/** At least one tick per this many ms of draining: a loop yielding between batches ticks ~once per batch (one per 1-30 ms on a loaded 2-core machine); a frozen one ticks ~0 times whatever the duration. */
const MS_PER_TICK_AT_WORST = 100;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Publishes `EVENTS` of `name`, then drains while a 1 ms interval counts its ticks. */
async function floodAndCountTicks(testApp: TestApp, name: string): Promise<{ ticks: number; drainMs: number; minimum: number }> {
  for (let i = 0; i < EVENTS; i++) testApp.events.publish(name, i);
  let ticks = 0;
  const interval = setInterval(() => ticks++, 1);
  const started = performance.now();
  try {
    await testApp.bus.drain();
  } finally {
    clearInterval(interval);
  }
  const drainMs = performance.now() - started;
  return { ticks, drainMs, minimum: Math.max(2, Math.floor(drainMs / MS_PER_TICK_AT_WORST)) };
}

describe('issue 11 defect 1: a flood with follow-ups does not freeze the event loop', () => {
  it('a handler of a that publishes b: the interval keeps ticking while the flood drains', async () => {
    app = await createApp({});
    let delivered = 0;
    const testApp = app;
    app.bus.on('flood.a', function publishFollowUp(n: number) {
      testApp.events.publish('flood.b', n);
    });
    app.bus.on('flood.b', function countFollowUp() {
      delivered++;
    });
    const { ticks, drainMs, minimum } = await floodAndCountTicks(app, 'flood.a');
    expect(delivered).toBe(EVENTS);
    expect({ ticks, drainMs: Math.round(drainMs) }).toEqual({ ticks: Math.max(ticks, minimum), drainMs: Math.round(drainMs) });
  });

  it('an events$ subscriber that publishes a follow-up: the interval keeps ticking while the flood drains', async () => {
    app = await createApp({});
    let delivered = 0;
    const testApp = app;
    app.bus.ofEvent('flood.a').subscribe((envelope) => void testApp.events.publish('flood.b', envelope.payload));
    app.bus.on('flood.a', function noop() {});
    app.bus.on('flood.b', function countFollowUp() {
      delivered++;
    });
    const { ticks, drainMs, minimum } = await floodAndCountTicks(app, 'flood.a');
    expect(delivered).toBe(EVENTS);
    expect({ ticks, drainMs: Math.round(drainMs) }).toEqual({ ticks: Math.max(ticks, minimum), drainMs: Math.round(drainMs) });
  });
});
