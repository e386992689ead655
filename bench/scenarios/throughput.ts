import { CompletionCounter, elapsedNs, nowNs, quiesce, rotate, sleep } from '../harness.js';
import type { ListenerKind, SystemInstance } from '../systems/types.js';
import { unsupportedCell, withTimeout, type Cell, type Context, type Row, type Scenario } from './types.js';

interface ThroughputOptions {
  id: string;
  title: string;
  names: readonly string[];
  perName: number;
  pattern?: string;
  /** Whether every published name also matches the pattern (one more completion per event). */
  patternMatches?: boolean;
  kind: ListenerKind;
  checks: string[];
  notes?: string[];
}

const PAYLOAD = Object.freeze({ orderId: 123, item: 'Coffee' });
/** Pause before each sample (untimed). */
const SETTLE_MS = 10;

/**
 * Publish N events (names round-robin), then wait until every listener ran for every one of them
 * (completions counted, not publish calls). Reported as ns per published event.
 */
export function throughputScenario(options: ThroughputOptions): Scenario {
  return {
    id: options.id,
    async run(ctx: Context): Promise<Row[]> {
      const { sizes } = ctx;
      const counter = new CompletionCounter();
      const perEvent = options.perName + (options.pattern !== undefined && options.patternMatches ? 1 : 0);
      const cells: Record<string, Cell> = {};
      const live: { id: string; instance: SystemInstance; events: number }[] = [];

      for (const system of ctx.systems) {
        if (options.pattern !== undefined && !system.patterns) {
          cells[system.id] = unsupportedCell('no wildcard subscriptions');
          continue;
        }
        const instance = await system.create({
          names: options.names,
          perName: options.perName,
          pattern: options.pattern,
          kind: options.kind,
          onEvent: counter.hit,
        });
        live.push({ id: system.id, instance, events: sizes.events });
      }

      // No forced GC per sample: a full GC shrinks the young generation, which then punishes whoever
      // allocates next (queued envelopes, promises) with promotions a real server would not see.
      const sample = async (instance: SystemInstance, events: number): Promise<number> => {
        // Let the previous sample's background GC work (concurrent marking, sweeping) finish first:
        // otherwise a garbage-heavy system's debt lands in the next system's sample.
        await sleep(SETTLE_MS);
        const done = counter.expect(events * perEvent);
        const start = nowNs();
        instance.publishMany(events, PAYLOAD);
        await withTimeout(done, 120_000, `${options.id}`);
        const ns = elapsedNs(start) / events;
        quiesce();
        return ns;
      };

      // Warm-up (JIT, caches), and a size per system so slow systems keep to the time budget.
      for (const entry of live) {
        // At least `warmups` samples and about two budgets of warm-up time, so the JIT has settled.
        let estimate = Infinity;
        let spentMs = 0;
        let warmEvents = Math.min(sizes.events, 2_000);
        for (let w = 0; w < sizes.warmups || (spentMs < 2 * sizes.budgetMs && w < 50); w++) {
          const ns = await sample(entry.instance, warmEvents);
          if (process.env.BENCH_DEBUG) console.log(`warm ${entry.id} ${warmEvents} ${ns.toFixed(0)}`);
          estimate = Math.min(estimate, ns);
          spentMs += (ns * warmEvents) / 1e6;
          warmEvents = Math.min(sizes.events, warmEvents * 2);
        }
        const affordable = Math.floor((sizes.budgetMs * 1e6) / Math.max(estimate, 1));
        entry.events = Math.max(sizes.minEvents, Math.min(sizes.events, affordable));
        cells[entry.id] = { samples: [], note: entry.events === sizes.events ? undefined : `N=${entry.events.toLocaleString('en-US')}` };
      }

      for (let r = 0; r < sizes.repeats; r++) {
        for (const entry of rotate(live, r)) cells[entry.id].samples.push(await sample(entry.instance, entry.events));
      }
      for (const entry of live) {
        cells[entry.id].extra = { eventsPerSample: entry.events, completionsPerEvent: perEvent };
        await entry.instance.close();
      }
      return [
        {
          id: options.id,
          title: options.title,
          unit: 'ns/event',
          cells,
          checks: options.checks,
          notes: options.notes ?? [],
        },
      ];
    },
  };
}

const THOUSAND = Array.from({ length: 1_000 }, (_, i) => `user.e${i}`);

export const oneListener = throughputScenario({
  id: 'sync-1',
  title: '1 sync listener',
  names: ['order.created'],
  perName: 1,
  kind: 'sync',
  checks: ['t1-floor', 't1-emitter', 't-telemetry'],
});

export const tenListeners = throughputScenario({
  id: 'sync-10',
  title: '10 sync listeners on one event',
  names: ['order.created'],
  perName: 10,
  kind: 'sync',
  checks: ['t10-emitter'],
});

export const asyncListener = throughputScenario({
  id: 'async-1',
  title: '1 async listener (awaits once)',
  names: ['order.created'],
  perName: 1,
  kind: 'async',
  checks: [],
});

export const thousandNames = throughputScenario({
  id: 'names-1000',
  title: '1,000 names, 1 listener each, round-robin',
  names: THOUSAND,
  perName: 1,
  kind: 'sync',
  checks: ['t-names'],
});

export const thousandNamesPattern = throughputScenario({
  id: 'names-1000-pattern',
  title: "1,000 names + one 'order.*' listener (matches none of them)",
  names: THOUSAND,
  perName: 1,
  pattern: 'order.*',
  patternMatches: false,
  kind: 'sync',
  checks: ['t-pattern'],
  notes: [
    "EventEmitter2 (raw and Nest) runs with `wildcard: true` in the pattern rows only, since a pattern needs it.",
  ],
});

export const thousandNamesPatternMatching = throughputScenario({
  id: 'names-1000-pattern-hit',
  title: "1,000 'order.eN' names + 'order.*' matching every event (2 completions/event)",
  names: Array.from({ length: 1_000 }, (_, i) => `order.e${i}`),
  perName: 1,
  pattern: 'order.*',
  patternMatches: true,
  kind: 'sync',
  checks: [],
});
