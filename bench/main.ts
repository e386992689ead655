/**
 * `npm run bench` (`-- --quick` for a run under a minute). Every scenario for every system in one
 * process run, repeats interleaved across systems; prints a markdown table of medians (min–max) with
 * ratios, PASS/MISS per target, and writes the raw figures to bench/results/<time>.json.
 *
 * Options: --quick, --only=<scenario,...>, --systems=<id,...>, --readme (rewrite the README's
 * performance section with this run), --no-nats.
 */
import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hasGc, keepPromiseHooks, stats } from './harness.js';
import { checkTargets, markdownTable, notesMarkdown, targetsMarkdown } from './report.js';
import { bootstrap } from './scenarios/bootstrap.js';
import { flood } from './scenarios/flood.js';
import { heapPerSubscription } from './scenarios/heap-subscription.js';
import { latency } from './scenarios/latency.js';
import { publishAndWait } from './scenarios/publish-and-wait.js';
import {
  asyncListener,
  oneListener,
  tenListeners,
  thousandNames,
  thousandNamesPattern,
  thousandNamesPatternMatching,
} from './scenarios/throughput.js';
import { FULL, QUICK, type Context, type Row, type Scenario } from './scenarios/types.js';
import { SYSTEMS } from './systems/index.js';

/** The repository root (this file runs from dist/bench/bench/main.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

const SCENARIOS: Scenario[] = [
  oneListener,
  tenListeners,
  asyncListener,
  thousandNames,
  thousandNamesPattern,
  thousandNamesPatternMatching,
  publishAndWait,
  heapPerSubscription,
  bootstrap,
  latency,
  flood,
];

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function machine() {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.version,
    loadavgAtStart: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

/** Which code was measured: the commit, and whether lib/ had uncommitted changes. */
function codeState(): { commit: string; libDirty: boolean; dirtyFiles: string[] } {
  const git = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const head = git(['rev-parse', '--short', 'HEAD']);
  const status = git(['status', '--porcelain', '--', 'lib']);
  const dirtyFiles = status.status === 0 ? status.stdout.split('\n').map((l) => l.slice(3).trim()).filter(Boolean) : [];
  return { commit: head.status === 0 ? head.stdout.trim() : 'unknown', libDirty: dirtyFiles.length !== 0, dirtyFiles };
}

function natsReachable(): Promise<boolean> {
  return new Promise((resolveReachable) => {
    const socket = connect({ host: '127.0.0.1', port: 4222 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolveReachable(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** bench/nats-throughput.ts (owned by the NATS work) runs as a child process; its stdout is included. */
async function runNats(quick: boolean): Promise<{ ran: boolean; output: string }> {
  const skip = (reason: string) => {
    const output = `NATS throughput: skipped (${reason}).`;
    console.log(`\n${output}`);
    return { ran: false, output };
  };
  if (quick) return skip('--quick');
  if (flag('no-nats')) return skip('--no-nats');
  if (!existsSync(join(ROOT, 'bench/nats-throughput.ts'))) return skip('bench/nats-throughput.ts does not exist yet');
  if (!(await natsReachable())) return skip('no NATS server at 127.0.0.1:4222');
  console.log('\nNATS throughput: compiling bench/nats-throughput.ts …');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'bench/tsconfig.nats.json')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (tsc.status !== 0) return skip(`it does not compile: ${(tsc.stdout + tsc.stderr).trim().split('\n').slice(0, 5).join(' / ')}`);
  const script = join(ROOT, 'dist/bench-nats/bench/nats-throughput.js');
  console.log(`NATS throughput: running node ${script} …`);
  const child = spawnSync(process.execPath, [script], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
  if (child.status !== 0) {
    const why = child.error ? String(child.error) : `exit ${child.status ?? child.signal}`;
    return skip(`it failed (${why}): ${(child.stderr || child.stdout).trim().split('\n').slice(-5).join(' / ')}`);
  }
  const output = child.stdout.trim();
  console.log(output);
  return { ran: true, output };
}

function writeReadme(markdown: string): void {
  const path = join(ROOT, 'README.md');
  const start = '<!-- section:performance -->';
  const end = '<!-- /section:performance -->';
  // Re-read right before writing: other people edit other sections of this file.
  const text = readFileSync(path, 'utf8');
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error('README.md has no performance section markers');
  writeFileSync(path, text.slice(0, i + start.length) + '\n' + markdown.trim() + '\n' + text.slice(j));
  console.log('README.md performance section updated.');
}

async function main(): Promise<void> {
  if (!hasGc()) throw new Error('run with node --expose-gc (npm run bench does)');
  const quick = flag('quick');
  const only = option('only')?.split(',');
  const systemIds = option('systems')?.split(',');
  const sizes = quick ? QUICK : FULL;
  // Without nestjs-event-bus in the list there are no ratios and no targets, but the other systems then
  // run without its AsyncLocalStorage (no promise hooks at all unless --als).
  const systems = systemIds ? SYSTEMS.filter((s) => systemIds.includes(s.id)) : SYSTEMS;
  const scenarios = only ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS;
  // Node 20's AsyncLocalStorage (nestjs-event-bus uses one for causation) switches promise hooks on
  // for the whole process the first time it runs, which slows every promise. By default the runner
  // switches the bus's storage off after each of its samples, so every system runs as in its own app
  // (see harness.quiesce). With --als, promise hooks are on for every system from the start instead
  // (an application that already uses AsyncLocalStorage: nestjs-cls, OpenTelemetry, ...).
  const als = flag('als');
  if (als) {
    keepPromiseHooks();
    new AsyncLocalStorage<boolean>().run(true, () => undefined);
  }
  const host = machine();
  const code = codeState();
  const started = new Date();
  console.log(
    `nestjs-event-bus benchmarks (${quick ? 'quick' : 'full'}) — ${host.cpu}, ${host.cores} cores, Node ${host.node}, load ${host.loadavgAtStart.join(' ')}`,
  );
  const ctx: Context = { sizes, quick, systems, log: (m) => console.log(m) };
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const t0 = Date.now();
    process.stdout.write(`  ${scenario.id} … `);
    const produced = await scenario.run(ctx);
    rows.push(...produced);
    const lib = produced.map((r) => {
      const c = r.cells['event-bus'];
      return c && c.samples.length ? `${r.id}=${stats(c.samples).median.toFixed(1)} ${r.unit}` : r.id;
    });
    console.log(`${((Date.now() - t0) / 1000).toFixed(1)} s (${lib.join(', ')})`);
  }
  const targets = checkTargets(rows);
  const finished = new Date();
  const extra = process.argv.slice(2).filter((a) => a !== '--readme' && a !== '--quick');
  const command = `npm run bench${quick || extra.length ? ' --' : ''}${quick ? ' --quick' : ''}${extra.length ? ' ' + extra.join(' ') : ''}`;
  const machineLine = `${host.cpu}, ${host.cores} cores, ${host.memoryGb} GB, ${host.os}, Node ${host.node}; load average ${host.loadavgAtStart.join(' / ')} at start (shared machine)`;
  const table = markdownTable(rows, systems);
  const targetsText = targetsMarkdown(targets);
  const notes = notesMarkdown(rows, systems, als);
  const nats = await runNats(quick);

  const markdown = [
    `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`${command}\` (${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s), all systems in one process run.`,
    `Machine: ${machineLine}.`,
    `Code: commit ${code.commit}${code.libDirty ? ` plus uncommitted changes to ${code.dirtyFiles.slice(0, 4).join(', ')}${code.dirtyFiles.length > 4 ? ', …' : ''}` : ''}.`,
    '',
    table,
    '',
    'Targets (ratios from this run):',
    '',
    targetsText,
    '',
    notes,
    '',
    nats.ran ? `NATS JetStream (\`bench/nats-throughput.ts\`, same run):\n\n${nats.output}` : nats.output,
  ].join('\n');
  console.log('\n' + markdown);

  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const json = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    mode: quick ? 'quick' : 'full',
    command,
    argv: process.argv.slice(2),
    promiseHooks: als ? 'on for every system from the start (--als)' : 'on only while nestjs-event-bus runs (its AsyncLocalStorage is switched off after each of its samples)',
    code,
    machine: { ...host, loadavgAtEnd: loadavg().map((l) => Number(l.toFixed(2))) },
    sizes,
    systems: systems.map((s) => ({ id: s.id, label: s.label, waitNote: s.waitNote, subscribeNote: s.subscribeNote })),
    rows: rows.map((r) => ({
      ...r,
      cells: Object.fromEntries(
        Object.entries(r.cells).map(([id, c]) => [id, { ...c, ...(c.samples.length ? stats(c.samples) : {}), samples: c.samples }]),
      ),
    })),
    targets,
    nats,
  };
  const file = join(dir, `${stamp}${quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(json, null, 2));
  writeFileSync(join(dir, quick ? 'latest-quick.json' : 'latest.json'), JSON.stringify(json, null, 2));
  writeFileSync(join(dir, quick ? 'latest-quick.md' : 'latest.md'), markdown + '\n');
  console.log(`\nRaw figures: ${file}`);
  if (flag('readme')) {
    writeReadme(`## Performance\n\n${markdown}\n\nRe-run with \`npm run bench\` (full, a few minutes) or \`npm run bench -- --quick\` (under a minute); raw figures go to \`bench/results/\`. See bench/README.md for what each scenario measures.`);
  }
  // Nest contexts are closed; anything left (timers of third-party code) must not keep us alive.
  process.exit(0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
