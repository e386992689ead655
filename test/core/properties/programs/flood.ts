// Property: under a flood (tens of thousands of events in a tight loop), with or without follow-ups
// published by handlers or by events$ subscribers, or retries, every event is delivered exactly once
// and a 1 ms interval keeps ticking while the backlog drains: at least one tick per 100 ms of drain
// time (relative to the drain's own duration, never a wall-clock threshold).
// Run alone: node --import ./test/nats/support/register-ts.mjs <this file>
import '../support/process-errors.js';
import 'reflect-metadata';
import fc from 'fast-check';
import { performance } from 'node:perf_hooks';
import { createApp } from '../../../support/create-app.js';
import { processErrors } from '../support/process-errors.js';
import { allowed } from '../support/arbitraries.js';
import { isMain, runAndReport, type SuiteProperty } from '../support/run-property.js';

const MS_PER_TICK_AT_WORST = 100;

const flood = fc.record({
  events: fc.integer({ min: 30_000, max: 120_000 }),
  followUp: fc.constantFrom(...allowed(['none', 'handler', 'subscriber', 'retry'] as const)),
  asyncHandler: fc.boolean(),
});

export const property: SuiteProperty = {
  name: 'flood',
  defaultRuns: 6,
  property: fc.asyncProperty(flood, async ({ events, followUp, asyncHandler }) => {
      processErrors.length = 0;
      const app = await createApp({}, { logger: false });
      let delivered = 0;
      let followUps = 0;
      const seen = new Uint8Array(events);
      app.bus.on(
        'flood.a',
        function onA(n: number, envelope: { attempt: number }) {
          if (followUp === 'retry' && envelope.attempt === 1) throw new Error('first attempt fails (retried)');
          if (seen[n] !== 0) throw new Error(`#${n} delivered twice`);
          seen[n] = 1;
          delivered++;
          if (followUp === 'handler') app.events.publish('flood.b', n);
          return asyncHandler ? Promise.resolve() : undefined;
        },
        { retry: { attempts: 2 } },
      );
      app.bus.on('flood.b', function onB() {
        followUps++;
      });
      if (followUp === 'subscriber') app.bus.ofEvent('flood.a').subscribe((e) => void app.events.publish('flood.b', e.payload));
      for (let n = 0; n < events; n++) app.events.publish('flood.a', n);
      let ticks = 0;
      const interval = setInterval(() => ticks++, 1);
      const started = performance.now();
      await app.bus.drain();
      const drainMs = performance.now() - started;
      clearInterval(interval);
      await app.close();
      const problems: string[] = [];
      const minimum = Math.max(2, Math.floor(drainMs / MS_PER_TICK_AT_WORST));
      if (ticks < minimum) problems.push(`${ticks} interval ticks during a ${Math.round(drainMs)} ms drain (at least ${minimum} expected)`);
      if (delivered !== events) problems.push(`${delivered} of ${events} events delivered`);
      const expectedFollowUps = followUp === 'handler' || followUp === 'subscriber' ? events : 0;
      if (followUps !== expectedFollowUps) problems.push(`${followUps} follow-ups delivered, expected ${expectedFollowUps}`);
      problems.push(...processErrors);
      if (problems.length !== 0) throw new Error(problems.join('\n'));
    }),
};

if (isMain(import.meta.url)) await runAndReport([property]);
