/**
 * Timing, statistics and completion counting shared by every scenario. Deliberately small: a
 * monotonic clock (process.hrtime.bigint), repeats interleaved across systems, medians with min–max.
 */

/** Nanoseconds, monotonic. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function elapsedNs(start: bigint): number {
  return Number(process.hrtime.bigint() - start);
}

/**
 * Counts handler completions and resolves once the expected number arrived. Every system's
 * listeners call `hit()`, so "publish N, then wait until N handled" is measured the same way for all.
 */
export class CompletionCounter {
  count = 0;
  private target = Infinity;
  private resolve: (() => void) | undefined;

  /** Bound, so it can be handed out as a plain function. */
  readonly hit = (): void => {
    if (++this.count === this.target) {
      const resolve = this.resolve!;
      this.resolve = undefined;
      this.target = Infinity;
      resolve();
    }
  };

  /** Resets the count; the promise resolves once `target` completions happened. */
  expect(target: number): Promise<void> {
    this.count = 0;
    if (target === 0) return Promise.resolve();
    this.target = target;
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  /** For runs where completions may already have happened synchronously (sync emitters). */
  waitFor(target: number): Promise<void> {
    if (this.count >= target) return Promise.resolve();
    this.target = target;
    return new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  reset(): void {
    this.count = 0;
    this.target = Infinity;
    this.resolve = undefined;
  }
}

export interface Stats {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], samples };
}

/** The p-th percentile (0..100) of a numeric array, nearest-rank. */
export function percentile(values: Float64Array | number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Yields to the event loop (lets timers, I/O and setImmediate callbacks run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Gc = (options?: unknown) => void;

export function hasGc(): boolean {
  return typeof (globalThis as { gc?: Gc }).gc === 'function';
}

/** A full, synchronous GC (needs --expose-gc); a few passes so weak and finalizable objects go too. */
export function fullGc(): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (gc === undefined) throw new Error('run node with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
}

export async function settledGc(): Promise<void> {
  fullGc();
  await tick();
  fullGc();
}

export function heapUsed(): number {
  return process.memoryUsage().heapUsed;
}

/** Rotates a list by `k`, so the order in which systems run changes from one repeat to the next. */
export function rotate<T>(list: readonly T[], k: number): T[] {
  if (list.length === 0) return [];
  const s = k % list.length;
  return [...list.slice(s), ...list.slice(0, s)];
}

// ------------------------------------------------------------------ formatting

export function fmtNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

export function fmtRatio(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 100) return `${Math.round(value)}×`;
  if (value >= 10) return `${value.toFixed(1)}×`;
  return `${value.toFixed(2)}×`;
}

// ------------------------------------------------------------------ promise hooks

/** Something that can switch its AsyncLocalStorage off (and switches it back on by itself on next use). */
interface Disableable {
  disable(): void;
}

const storages = new Set<Disableable>();
let keepHooks = false;

/** Registers an AsyncLocalStorage that `quiesce()` switches off between samples. */
export function trackStorage(storage: Disableable): void {
  storages.add(storage);
}

/** With --als every system runs with promise hooks on: quiesce() then leaves them alone. */
export function keepPromiseHooks(): void {
  keepHooks = true;
}

/**
 * Called after every sample. Node 20's AsyncLocalStorage switches promise hooks on for the whole
 * process on first use and keeps them on, which makes every promise of every system slower. Switching
 * nestjs-event-bus's storage off after its samples (it switches itself back on at its next dispatch)
 * lets each system run as it would in its own application: nestjs-event-bus with its hooks, the others
 * without. It also switches off the storages of closed nestjs-event-bus applications, which (at the
 * measured commit) stay enabled after app.close() and would tax every later promise of the process.
 */
export function quiesce(): void {
  if (keepHooks) return;
  for (const storage of storages) storage.disable();
}
