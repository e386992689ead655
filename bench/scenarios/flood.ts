import { CompletionCounter, fullGc, heapUsed, nowNs, elapsedNs, quiesce, settledGc } from '../harness.js';
import { withTimeout, type Cell, type Context, type Row, type Scenario } from './types.js';

const PAYLOAD = Object.freeze({ orderId: 123 });

/**
 * A flood: N events published in one tight loop, then drained. Heap is measured right after the
 * loop (after a full GC, before the loop yields, so everything queued is still queued): bytes per
 * queued event. Also the longest gap between 1 ms timer ticks while it drains (does the loop turn?).
 */
export const flood: Scenario = {
  id: 'flood',
  async run(ctx: Context): Promise<Row[]> {
    const fullEvents = ctx.sizes.floodEvents;
    const heap: Record<string, Cell> = {};
    const drain: Record<string, Cell> = {};
    const gap: Record<string, Cell> = {};
    const counter = new CompletionCounter();
    const notes: string[] = [];
    for (const system of ctx.systems) {
      heap[system.id] = { samples: [] };
      drain[system.id] = { samples: [] };
      gap[system.id] = { samples: [] };
      const limit = system.floodLimit;
      const events = limit !== undefined && limit.events < fullEvents ? limit.events : fullEvents;
      if (events !== fullEvents) {
        const note = `N=${events.toLocaleString('en-US')}`;
        heap[system.id].note = drain[system.id].note = gap[system.id].note = note;
        notes.push(`flood, ${system.label}: ${limit!.reason}.`);
      }
      const instance = await system.create({ names: ['order.created'], perName: 1, kind: 'sync', onEvent: counter.hit });
      instance.publishMany(1_000, PAYLOAD); // warm-up
      await counter.waitFor(1_000);
      quiesce();
      for (let r = 0; r < ctx.sizes.floodRepeats; r++) {
        await settledGc();
        const before = heapUsed();
        const done = counter.expect(events);
        const start = nowNs();
        instance.publishMany(events, PAYLOAD);
        const publishedNs = elapsedNs(start);
        fullGc();
        const after = heapUsed();
        let last = Date.now();
        let longest = 0;
        const timer = setInterval(() => {
          const now = Date.now();
          longest = Math.max(longest, now - last);
          last = now;
        }, 1);
        await withTimeout(done, 300_000, 'flood');
        const totalNs = elapsedNs(start);
        clearInterval(timer);
        quiesce();
        longest = Math.max(longest, Date.now() - last);
        heap[system.id].samples.push(Math.max(0, after - before) / events);
        drain[system.id].samples.push(totalNs / events);
        gap[system.id].samples.push(longest);
        heap[system.id].extra = { publishLoopMs: publishedNs / 1e6 };
      }
      await instance.close();
    }
    const n = fullEvents.toLocaleString('en-US');
    return [
      {
        id: 'flood-heap',
        title: `heap per queued event, ${n}-event flood`,
        unit: 'bytes',
        cells: heap,
        checks: [],
        notes: [
          'flood: synchronous emitters run every handler inside the publish loop, so nothing is queued (≈0 bytes); the cost shows up as the loop being blocked for the whole publish instead.',
        ],
      },
      { id: 'flood-total', title: `${n}-event flood: publish + drain`, unit: 'ns/event', cells: drain, checks: [], notes: [] },
      {
        id: 'flood-gap',
        title: `${n}-event flood: longest 1 ms-timer gap while draining`,
        unit: 'ms',
        cells: gap,
        checks: [],
        notes: [...notes, 'flood timer gap: measured after the publish loop returned (the loop itself blocks every system); synchronous emitters have nothing left to drain.'],
      },
    ];
  },
};
