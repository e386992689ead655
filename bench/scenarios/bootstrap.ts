import { elapsedNs, fullGc, nowNs, rotate } from '../harness.js';
import { unsupportedCell, type Cell, type Context, type Row, type Scenario } from './types.js';

/**
 * Application bootstrap (createApplicationContext, init included) with 1,000 providers that each
 * have one handler, against the same with 1,000 plain providers; the difference is the cost of
 * handler registration. Runs paired: each repeat boots both variants back to back.
 */
export const bootstrap: Scenario = {
  id: 'bootstrap',
  async run(ctx: Context): Promise<Row[]> {
    const count = ctx.sizes.bootstrapProviders;
    const total: Record<string, Cell> = {};
    const delta: Record<string, Cell> = {};
    const prepared: { id: string; handlers: () => Promise<() => Promise<void>>; plain: () => Promise<() => Promise<void>> }[] = [];
    for (const system of ctx.systems) {
      if (!system.nest || system.prepareBootstrap === undefined) {
        total[system.id] = unsupportedCell('not a Nest module');
        delta[system.id] = unsupportedCell('not a Nest module');
        continue;
      }
      prepared.push({
        id: system.id,
        handlers: system.prepareBootstrap(count, true),
        plain: system.prepareBootstrap(count, false),
      });
      total[system.id] = { samples: [] };
      delta[system.id] = { samples: [] };
    }
    const time = async (boot: () => Promise<() => Promise<void>>): Promise<number> => {
      fullGc();
      const start = nowNs();
      const close = await boot();
      const ns = elapsedNs(start);
      await close();
      return ns / 1e6;
    };
    // One untimed round first: module loading and JIT.
    for (const entry of prepared) {
      await time(entry.plain);
      await time(entry.handlers);
    }
    for (let r = 0; r < ctx.sizes.bootstrapRepeats; r++) {
      for (const entry of rotate(prepared, r)) {
        // Alternate which variant goes first.
        let plainMs: number;
        let handlersMs: number;
        if (r % 2 === 0) {
          plainMs = await time(entry.plain);
          handlersMs = await time(entry.handlers);
        } else {
          handlersMs = await time(entry.handlers);
          plainMs = await time(entry.plain);
        }
        total[entry.id].samples.push(handlersMs);
        delta[entry.id].samples.push(((handlersMs - plainMs) * 1000) / count);
        (total[entry.id].extra ??= { plainMs: [] as number[] }).plainMs = [
          ...((total[entry.id].extra!.plainMs as number[]) ?? []),
          plainMs,
        ];
      }
    }
    const n = count.toLocaleString('en-US');
    return [
      {
        id: 'bootstrap-total',
        title: `bootstrap, ${n} handler providers`,
        unit: 'ms',
        cells: total,
        checks: [],
        notes: [],
      },
      {
        id: 'bootstrap-per-handler',
        title: `bootstrap Δ per handler vs ${n} plain providers`,
        unit: 'µs/handler',
        cells: delta,
        checks: ['t-bootstrap'],
        notes: [
          `bootstrap: NestFactory.createApplicationContext (init included) of a module with ${n} providers with one handler each, minus the same with ${n} plain providers, paired per repeat; each system's own module (EventBusModule / EventEmitterModule / CqrsModule) is imported in both.`,
        ],
      },
    ];
  },
};
