import type { System } from '../systems/types.js';

export interface Sizes {
  /** Events per throughput sample (slow systems get fewer, see budgetMs). */
  events: number;
  /** Target duration of one sample; a system slower than events × its cost gets fewer events. */
  budgetMs: number;
  /** Never fewer events per sample than this. */
  minEvents: number;
  repeats: number;
  warmups: number;
  waitEvents: number;
  subscriptions: number;
  subscriptionRepeats: number;
  bootstrapProviders: number;
  bootstrapRepeats: number;
  /** Boots per variant averaged into one bootstrap sample (single boots are noisy). */
  bootsPerSample: number;
  latencyRate: number;
  latencySeconds: number;
  latencyRepeats: number;
  floodEvents: number;
  floodRepeats: number;
}

export const FULL: Sizes = {
  events: 20_000,
  budgetMs: 100,
  minEvents: 1_000,
  repeats: 21,
  warmups: 3,
  waitEvents: 20_000,
  subscriptions: 10_000,
  subscriptionRepeats: 5,
  bootstrapProviders: 1_000,
  bootstrapRepeats: 21,
  bootsPerSample: 3,
  latencyRate: 10_000,
  latencySeconds: 2,
  latencyRepeats: 3,
  floodEvents: 1_000_000,
  floodRepeats: 3,
};

export const QUICK: Sizes = {
  events: 10_000,
  budgetMs: 25,
  minEvents: 500,
  repeats: 5,
  warmups: 2,
  waitEvents: 2_000,
  subscriptions: 10_000,
  subscriptionRepeats: 2,
  bootstrapProviders: 1_000,
  bootstrapRepeats: 5,
  bootsPerSample: 1,
  latencyRate: 10_000,
  latencySeconds: 0.5,
  latencyRepeats: 1,
  floodEvents: 200_000,
  floodRepeats: 1,
};

export interface Context {
  sizes: Sizes;
  quick: boolean;
  systems: readonly System[];
  log(message: string): void;
}

/** One system's figures in one row. */
export interface Cell {
  samples: number[];
  /** Why there is no figure (the system cannot do it). */
  unsupported?: string;
  /** Anything a reader should know about this figure (events per sample, emulation). */
  note?: string;
  /** Extra raw data kept in the JSON only. */
  extra?: Record<string, unknown>;
}

/** One line of the table: one metric, one cell per system. */
export interface Row {
  id: string;
  title: string;
  unit: string;
  /** Lower is better for every metric here (times, bytes). */
  cells: Record<string, Cell>;
  /** Targets (ids) this row feeds. */
  checks: string[];
  /** Printed under the table. */
  notes: string[];
}

export interface Scenario {
  id: string;
  run(ctx: Context): Promise<Row[]>;
}

export function unsupportedCell(reason: string): Cell {
  return { samples: [], unsupported: reason };
}

export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not finished after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
