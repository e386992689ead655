import { percentile, quiesce, tick } from '../harness.js';
import type { Cell, Context, Row, Scenario } from './types.js';
import { withTimeout } from './types.js';
import { performance } from 'node:perf_hooks';

/**
 * Publish→handler-start latency at a steady rate: the publisher keeps to the schedule from a
 * setImmediate loop (the event loop keeps turning, as in a server), each payload carries its publish
 * time, and the listener records now − then when it starts.
 */
export const latency: Scenario = {
  id: 'latency',
  async run(ctx: Context): Promise<Row[]> {
    const { latencyRate: rate, latencySeconds: seconds, latencyRepeats: repeats } = ctx.sizes;
    const total = Math.round(rate * seconds);
    const p50: Record<string, Cell> = {};
    const p99: Record<string, Cell> = {};
    let recorded = new Float64Array(total);
    let received = 0;
    const onEvent = (payload: { t: number }) => {
      recorded[received++] = performance.now() - payload.t;
    };
    for (const system of ctx.systems) {
      p50[system.id] = { samples: [] };
      p99[system.id] = { samples: [] };
      const instance = await system.create({ names: ['order.created'], perName: 1, kind: 'sync', onEvent });
      // Warm-up at the same rate for a tenth of the time.
      for (let r = -1; r < repeats; r++) {
        const events = r < 0 ? Math.max(100, Math.round(total / 10)) : total;
        recorded = new Float64Array(events);
        received = 0;
        const start = performance.now();
        let sent = 0;
        while (sent < events) {
          const due = Math.min(events, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
          while (sent < due) {
            instance.publishOne(0, { t: performance.now() });
            sent++;
          }
          await tick();
        }
        await withTimeout(
          (async () => {
            while (received < events) await tick();
          })(),
          60_000,
          'latency',
        );
        quiesce();
        if (r < 0) continue;
        p50[system.id].samples.push(percentile(recorded, 50) * 1000);
        p99[system.id].samples.push(percentile(recorded, 99) * 1000);
      }
      await instance.close();
    }
    const what = `${rate.toLocaleString('en-US')} events/s for ${seconds} s`;
    return [
      { id: 'latency-p50', title: `publish→handler-start latency p50 at ${what}`, unit: 'µs', cells: p50, checks: [], notes: [] },
      {
        id: 'latency-p99',
        title: `publish→handler-start latency p99 at ${what}`,
        unit: 'µs',
        cells: p99,
        checks: [],
        notes: [
          'latency: synchronous emitters run the handler inside emit, so their figure is the call overhead; nestjs-event-bus never runs a handler inside publish (it starts them from a microtask).',
        ],
      },
    ];
  },
};
