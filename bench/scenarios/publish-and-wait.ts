import { CompletionCounter, elapsedNs, nowNs, quiesce, rotate } from '../harness.js';
import type { SystemInstance } from '../systems/types.js';
import { unsupportedCell, withTimeout, type Cell, type Context, type Row, type Scenario } from './types.js';

const PAYLOAD = Object.freeze({ orderId: 123 });

/** Publish one event and await its handlers (one async listener), N times in sequence. */
export const publishAndWait: Scenario = {
  id: 'publish-and-wait',
  async run(ctx: Context): Promise<Row[]> {
    const { sizes } = ctx;
    const counter = new CompletionCounter();
    const cells: Record<string, Cell> = {};
    const live: { id: string; instance: SystemInstance; wait: (i: number, p: unknown) => Promise<unknown>; events: number }[] = [];
    for (const system of ctx.systems) {
      const instance = await system.create({ names: ['order.created'], perName: 1, kind: 'async', onEvent: counter.hit });
      if (instance.publishAndWait === undefined) {
        cells[system.id] = unsupportedCell(system.waitNote);
        await instance.close();
        continue;
      }
      live.push({ id: system.id, instance, wait: instance.publishAndWait, events: sizes.waitEvents });
    }
    const sample = async (wait: (i: number, p: unknown) => Promise<unknown>, events: number): Promise<number> => {
      counter.reset();
      const start = nowNs();
      for (let i = 0; i < events; i++) await wait(0, PAYLOAD);
      const ns = elapsedNs(start) / events;
      quiesce();
      if (counter.count !== events) throw new Error(`publish-and-wait: ${counter.count} of ${events} handled when the waits resolved`);
      return ns;
    };
    for (const entry of live) {
      let estimate = 0;
      for (let w = 0; w < sizes.warmups; w++) estimate = await withTimeout(sample(entry.wait, 500), 60_000, 'publish-and-wait');
      const affordable = Math.floor((sizes.budgetMs * 1e6) / Math.max(estimate, 1));
      entry.events = Math.max(sizes.minEvents, Math.min(sizes.waitEvents, affordable));
      const system = ctx.systems.find((s) => s.id === entry.id)!;
      const size = entry.events === sizes.waitEvents ? '' : `, N=${entry.events.toLocaleString('en-US')}`;
      cells[entry.id] = { samples: [], note: system.waitNote.startsWith('emulated') ? `emulated${size}` : size.slice(2) || undefined };
    }
    for (let r = 0; r < sizes.repeats; r++) {
      for (const entry of rotate(live, r)) cells[entry.id].samples.push(await withTimeout(sample(entry.wait, entry.events), 120_000, 'publish-and-wait'));
    }
    for (const entry of live) {
      cells[entry.id].extra = { eventsPerSample: entry.events };
      await entry.instance.close();
    }
    return [
      {
        id: 'publish-and-wait',
        title: 'publish-and-wait, one at a time (1 async listener)',
        unit: 'ns/event',
        cells,
        checks: [],
        notes: [
          'publish-and-wait: nestjs-event-bus `publishAndWait` vs EventEmitter2 `emitAsync`; node:events has none, so it is emulated with `Promise.all(listeners.map(call))`.',
        ],
      },
    ];
  },
};
