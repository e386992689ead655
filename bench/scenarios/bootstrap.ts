import { elapsedNs, fullGc, nowNs, quiesce, rotate } from '../harness.js';
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
    /** Wall ms (the total row) and CPU ms of this process (the Δ row: much less disturbed by other tenants). */
    const time = async (boot: () => Promise<() => Promise<void>>): Promise<{ wall: number; cpu: number }> => {
      let wall = 0;
      let cpuMs = 0;
      for (let b = 0; b < ctx.sizes.bootsPerSample; b++) {
        fullGc();
        const cpu0 = process.cpuUsage();
        const start = nowNs();
        const close = await boot();
        wall += elapsedNs(start) / 1e6;
        const cpu = process.cpuUsage(cpu0);
        cpuMs += (cpu.user + cpu.system) / 1000;
        await close();
        quiesce();
      }
      return { wall: wall / ctx.sizes.bootsPerSample, cpu: cpuMs / ctx.sizes.bootsPerSample };
    };
    // One untimed round first: module loading and JIT.
    for (const entry of prepared) {
      await time(entry.plain);
      await time(entry.handlers);
    }
    for (let r = 0; r < ctx.sizes.bootstrapRepeats; r++) {
      for (const entry of rotate(prepared, r)) {
        // Alternate which variant goes first.
        let plain: { wall: number; cpu: number };
        let handlers: { wall: number; cpu: number };
        if (r % 2 === 0) {
          plain = await time(entry.plain);
          handlers = await time(entry.handlers);
        } else {
          handlers = await time(entry.handlers);
          plain = await time(entry.plain);
        }
        total[entry.id].samples.push(handlers.wall);
        delta[entry.id].samples.push(((handlers.cpu - plain.cpu) * 1000) / count);
        const extra = (total[entry.id].extra ??= { plainWallMs: [], handlersCpuMs: [], plainCpuMs: [] }) as Record<string, number[]>;
        extra.plainWallMs.push(plain.wall);
        extra.handlersCpuMs.push(handlers.cpu);
        extra.plainCpuMs.push(plain.cpu);
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
        title: `bootstrap Δ per handler vs ${n} plain providers (CPU time)`,
        unit: 'µs/handler',
        cells: delta,
        checks: ['t-bootstrap'],
        notes: [
          `bootstrap: NestFactory.createApplicationContext (init included) of a module with ${n} providers with one handler each, minus the same with ${n} plain providers, paired per repeat (each sample the mean of ${ctx.sizes.bootsPerSample} boot(s) per variant), in CPU time of the process (user + system: wall time on this shared machine is too noisy for a difference this small; GC threads count too); each system's own module (EventBusModule / EventEmitterModule / CqrsModule) is imported in both.`,
        ],
      },
    ];
  },
};
