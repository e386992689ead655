import { heapUsed, quiesce, rotate, settledGc } from '../harness.js';
import type { Cell, Context, Row, Scenario } from './types.js';

/**
 * Heap bytes per run-time subscription: 10,000 listeners on 10,000 distinct names, each a distinct
 * function created before the baseline (so the functions themselves are not counted).
 */
export const heapPerSubscription: Scenario = {
  id: 'heap-subscription',
  async run(ctx: Context): Promise<Row[]> {
    const count = ctx.sizes.subscriptions;
    const cells: Record<string, Cell> = {};
    for (const system of ctx.systems) cells[system.id] = { samples: [], note: undefined };
    for (let r = 0; r < ctx.sizes.subscriptionRepeats; r++) {
      for (const system of rotate(ctx.systems, r)) {
        const host = await system.subscriptionHost();
        const names = Array.from({ length: count }, (_, i) => `sub.e${i}`);
        const listeners = names.map((_, i) => (payload: unknown) => void (payload === i));
        await settledGc();
        const before = heapUsed();
        for (let i = 0; i < count; i++) host.subscribe(names[i], listeners[i]);
        await settledGc();
        const after = heapUsed();
        cells[system.id].samples.push((after - before) / count);
        await host.close();
        quiesce();
        // Keep names and listeners alive until after the measurement.
        if (names.length !== listeners.length) throw new Error('unreachable');
      }
    }
    return [
      {
        id: 'heap-subscription',
        title: `heap per subscription (${count.toLocaleString('en-US')} listeners, distinct names)`,
        unit: 'bytes',
        cells,
        checks: ['t-heap'],
        notes: [
          'heap per subscription: ' +
            ctx.systems.map((s) => `${s.label}: ${s.subscribeNote}`).join('; ') +
            '. Measured with --expose-gc, heapUsed after − before a full GC.',
        ],
      },
    ];
  },
};
