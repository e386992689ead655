import { fmtNumber, fmtRatio, stats } from './harness.js';
import type { Row } from './scenarios/types.js';
import type { System } from './systems/types.js';

export const BASELINE = 'event-bus';

export interface TargetResult {
  id: string;
  text: string;
  measured: string;
  pass: boolean | undefined;
}

function median(row: Row | undefined, systemId: string): number {
  const cell = row?.cells[systemId];
  if (cell === undefined || cell.samples.length === 0) return NaN;
  return stats(cell.samples).median;
}

/** The targets, checked against medians from this run. */
export function checkTargets(rows: Row[]): TargetResult[] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const out: TargetResult[] = [];
  const add = (id: string, text: string, value: number, limit: number, direction: '≤' | '≥', shown: string) => {
    const pass = Number.isFinite(value) ? (direction === '≤' ? value <= limit : value >= limit) : undefined;
    out.push({ id, text, measured: Number.isFinite(value) ? shown : 'not measured', pass });
  };
  const lib = (id: string) => median(row(id), BASELINE);
  const of = (id: string, system: string) => median(row(id), system);

  const floor1 = lib('sync-1') / of('sync-1', 'map-floor');
  add('t1-floor', '1 listener: ≤ 3× the Map+call floor', floor1, 3, '≤', `${fmtRatio(floor1)} the floor`);
  const em1 = of('sync-1', 'nest-event-emitter') / lib('sync-1');
  add('t1-emitter', '1 listener: ≥ 2× faster than @nestjs/event-emitter', em1, 2, '≥', `${fmtRatio(em1)} faster`);
  const telemetry = lib('sync-1') / of('sync-1', 'event-bus-telemetry-off');
  add(
    't-telemetry',
    '1 listener, @opentelemetry/api installed and no tracer provider: ≤ 5% over telemetry: false',
    telemetry,
    1.05,
    '≤',
    `${((telemetry - 1) * 100).toFixed(1)}% over telemetry: false`,
  );
  const em10 = of('sync-10', 'nest-event-emitter') / lib('sync-10');
  add('t10-emitter', '10 listeners: ≥ 5× faster than @nestjs/event-emitter', em10, 5, '≥', `${fmtRatio(em10)} faster`);
  const names = lib('names-1000') / lib('sync-1');
  const floorNames = of('names-1000', 'map-floor') / of('sync-1', 'map-floor');
  add(
    't-names',
    '1,000 names: same per-event cost as one name (≤ 1.25×)',
    names,
    1.25,
    '≤',
    `${fmtRatio(names)} the one-name cost (the Map+call floor's own growth in this run: ${fmtRatio(floorNames)})`,
  );
  const pattern = lib('names-1000-pattern') / lib('names-1000');
  const change = (pattern - 1) * 100;
  add('t-pattern', 'pattern listener adds ≤ 30% to a plain-name publish', pattern, 1.3, '≤', `${change < 0 ? '−' : '+'}${fmtNumber(Math.abs(change))}%`);
  const heap = lib('heap-subscription') / of('heap-subscription', 'nest-event-emitter');
  add(
    't-heap',
    'heap per subscription ≤ 2× @nestjs/event-emitter',
    heap,
    2,
    '≤',
    `${fmtNumber(lib('heap-subscription'))} vs ${fmtNumber(of('heap-subscription', 'nest-event-emitter'))} bytes, ${fmtRatio(heap)} theirs`,
  );
  const boot = lib('bootstrap-per-handler') / of('bootstrap-per-handler', 'nest-event-emitter');
  const bootRow = row('bootstrap-per-handler');
  const overlap = bootRow !== undefined && iqrOverlap(bootRow.cells[BASELINE]?.samples, bootRow.cells['nest-event-emitter']?.samples);
  add(
    't-bootstrap',
    'bootstrap cost per handler ≤ @nestjs/event-emitter',
    boot,
    1,
    '≤',
    `${fmtNumber(lib('bootstrap-per-handler'))} vs ${fmtNumber(of('bootstrap-per-handler', 'nest-event-emitter'))} µs/handler${overlap ? ' (their interquartile ranges overlap: within this machine\'s noise)' : ''}`,
  );
  return out;
}

/** Whether the middle halves (p25–p75) of two sample sets overlap. */
function iqrOverlap(a: number[] | undefined, b: number[] | undefined): boolean {
  if (!a?.length || !b?.length) return false;
  const q = (xs: number[], p: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
  return q(a, 0.25) <= q(b, 0.75) && q(b, 0.25) <= q(a, 0.75);
}

function cellText(row: Row, system: System): string {
  const cell = row.cells[system.id];
  if (cell === undefined) return 'not run';
  if (cell.unsupported !== undefined) return `n/a`;
  if (cell.samples.length === 0) return '–';
  const s = stats(cell.samples);
  let text = `**${fmtNumber(s.median)}** (${fmtNumber(s.min)}–${fmtNumber(s.max)})`;
  const base = median(row, BASELINE);
  if (system.id !== BASELINE && Number.isFinite(base) && base > 0 && s.median > 0) text += ` ${fmtRatio(s.median / base)}`;
  if (cell.note) text += ` ${cell.note}`;
  return text;
}

export function markdownTable(rows: Row[], systems: readonly System[]): string {
  const header = `| scenario | unit | ${systems.map((s) => s.label).join(' | ')} |`;
  const rule = `|---|---|${systems.map(() => '---:').join('|')}|`;
  const lines = rows.map((row) => `| ${row.title} | ${row.unit} | ${systems.map((s) => cellText(row, s)).join(' | ')} |`);
  return [header, rule, ...lines].join('\n');
}

export function targetsMarkdown(targets: TargetResult[]): string {
  return targets
    .map((t) => `- **${t.pass === undefined ? 'N/A' : t.pass ? 'PASS' : 'MISS'}** ${t.text}: ${t.measured}`)
    .join('\n');
}

export function notesMarkdown(rows: Row[], systems: readonly System[], als: boolean): string {
  const notes: string[] = [
    als
      ? 'Run with `--als`: every system runs with Node 20\'s promise hooks on (an AsyncLocalStorage is entered before anything is measured), as in an application that already uses one (nestjs-cls, OpenTelemetry, …). Promise-heavy systems (@nestjs/event-emitter wraps every listener in an async function; async listeners) are much slower that way.'
      : 'Promise hooks: nestjs-event-bus uses an AsyncLocalStorage (causation ids), which in Node 20 switches promise hooks on for the whole process and slows every promise; its figures include that. The runner switches its storage off after each of its samples, so the other systems run as in their own application, without hooks (`--als` runs everyone with hooks on).',
    `Cells: **median** (min–max) over the repeats, then the ratio to nestjs-event-bus's median (above 1× = nestjs-event-bus is that many times cheaper). Lower is better everywhere. N=… marks a system given fewer events per sample to keep to the time budget.`,
  ];
  for (const row of rows) notes.push(...row.notes);
  const unsupported = new Map<string, string[]>();
  for (const row of rows) {
    for (const system of systems) {
      const reason = row.cells[system.id]?.unsupported;
      if (reason !== undefined) {
        const key = `${system.label}: ${reason}`;
        unsupported.set(key, [...(unsupported.get(key) ?? []), row.id]);
      }
    }
  }
  for (const [reason, ids] of unsupported) notes.push(`n/a — ${reason} (${ids.join(', ')})`);
  return [...new Set(notes)].map((n) => `- ${n}`).join('\n');
}
