import type { LoggerService } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type { StreamScripts } from './redis-scripts.js';
import type { ResolvedRedisOptions } from './redis-streams-transport.options.js';

const PRUNE_EVERY_MS = 10 * 60_000;
/** Consumers idle this long with nothing pending belong to instances long gone. */
const PRUNE_IDLE_MS = 60 * 60_000;

/**
 * The stream's housekeeping, run by every consuming instance (each run is one atomic script, so several
 * instances doing it is harmless): trimming what every group acknowledged, and pruning the consumer names
 * of instances that stopped long ago. Returns the function that stops it.
 */
export function startMaintenance(commands: Redis & StreamScripts, options: ResolvedRedisOptions, logger: () => LoggerService): () => void {
  const timers: NodeJS.Timeout[] = [];
  const every = (ms: number, task: () => Promise<unknown>) => {
    const timer = setInterval(() => void task().catch((error: unknown) => logger().warn(`Redis Streams maintenance of ${options.streamKey}: ${String(error)}`)), ms);
    timer.unref();
    timers.push(timer);
  };
  const { trim } = options;
  if (trim !== false) {
    every(trim.intervalMs, () => commands.ebTrim(options.streamKey, trim.minRetentionMs > 0 ? `${Date.now() - trim.minRetentionMs}-0` : ''));
  }
  every(PRUNE_EVERY_MS, () => commands.ebPrune(options.streamKey, options.group, PRUNE_IDLE_MS));
  return () => timers.forEach((timer) => clearInterval(timer));
}
