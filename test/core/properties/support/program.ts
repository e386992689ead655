import { BackpressureError, BufferOverflowError, EventBusClosedError } from '../../../../lib/index.js';
import { outcomeWithin, turns } from '../../support/outcome.js';
import type { Op } from './arbitraries.js';
import { checkAllSettled, checkDeliveries } from './checks.js';
import { SELECTORS, selectorMatches } from './events.js';
import { processErrors } from './process-errors.js';
import { LISTENER_LABELS, World, type EarlyPublish, type WorldConfig } from './world.js';

/** Bounds that only turn a hang into a reported violation ("never settled"); never timing assertions. */
const HANG_MS = 5000;

export interface ProgramEnd {
  /** 'drain': await drain(), then close(). 'close': close() right after the last operation. */
  end: 'drain' | 'close';
  /** Checked after every accepted publish from outside handlers. */
  maxQueued?: number;
}

/** Runs one generated program against a fresh application and returns every violation of the model. */
export async function runProgram(config: WorldConfig, ops: Op[], end: ProgramEnd, early: readonly EarlyPublish[] = []): Promise<string[]> {
  processErrors.length = 0;
  const t0 = performance.now();
  const world = new World(config);
  await world.start(early);
  checkEarly(world);
  const t1 = performance.now();
  for (const op of ops) await apply(world, op, end);
  const t2 = performance.now();

  let settled: boolean;
  if (end.end === 'drain') {
    const drained = world.drain();
    const outcome = await outcomeWithin(drained.done, HANG_MS);
    settled = outcome.state === 'resolved' && drained.state === 'resolved';
    if (!settled) world.violation(`the final drain() ${drained.state === 'pending' ? 'never settled' : `rejected: ${String(drained.error)}`}; unfinished: #${world.unfinished().map((e) => e.seq).join(', #')}`);
  } else {
    settled = !hasNever(config) && (config.shutdownTimeoutMs ?? 10_000) >= 10_000;
  }
  world.closeRequested = true;
  world.mayAbandon = !settled;
  const closing = await outcomeWithin(world.app.close(), (config.shutdownTimeoutMs ?? 0) > 10_000 ? HANG_MS : HANG_MS + (config.shutdownTimeoutMs ?? 0));
  if (closing.state !== 'resolved') world.violation(`app.close() ${closing.state === 'rejected' ? `rejected: ${String(closing.error)}` : 'never settled'}`);
  world.closeResolvedAt = ++world.clock;
  const t3 = performance.now();
  if (process.env.PROPERTY_PROFILE) process.stderr.write(`start ${(t1 - t0).toFixed(1)} ops ${(t2 - t1).toFixed(1)} end+close ${(t3 - t2).toFixed(1)}\n`);
  try {
    world.bus.publish('after.close');
    world.violation('publish() after close() resolved did not throw');
  } catch (error) {
    if (!(error instanceof EventBusClosedError)) world.violation(`publish() after close(): ${String(error)} instead of EventBusClosedError`);
  }
  // Whatever the bus still had scheduled (retries with backoff, slot waiters) would run by now.
  await turns(3);
  await new Promise((resolve) => setTimeout(resolve, 10));
  checkAllSettled(world);
  checkDeliveries(world, settled);
  world.earlyCheck?.();
  for (const error of processErrors) world.violation(error);
  return world.violations.length === 0 ? [] : [...world.violations, '--- handlers:', world.describe()];
}

async function apply(world: World, op: Op, end: ProgramEnd): Promise<void> {
  switch (op.op) {
    case 'publish': {
      const record = world.publish(op.form, op.name, op.reject, op.wait ? 'publishAndWait' : 'publish');
      afterPublish(world, record.refused, end);
      return;
    }
    case 'burst':
      for (let i = 0; i < op.count; i++) afterPublish(world, world.publish('name', op.name, [], 'publish').refused, end);
      return;
    case 'toggle':
      if (op.listener < world.config.listeners.length) world.toggle(LISTENER_LABELS[op.listener], op.via);
      return;
    case 'waitFor': {
      const selector = SELECTORS[op.selector];
      world.track(`waitFor(${String(typeof selector === 'function' ? selector.name : selector)})`, world.bus.waitFor(selector, op.timeoutMs === undefined ? {} : { timeoutMs: op.timeoutMs }), (envelope) => {
        if (!selectorMatches(selector, String(envelope.name), envelope.payload)) world.violation(`waitFor resolved with a non-matching ${String(envelope.name)}`);
      });
      return;
    }
    case 'pause':
      switch (op.kind) {
        case 'microtask':
          await null;
          return;
        case 'macrotask':
          await new Promise((resolve) => setImmediate(resolve));
          return;
        case 'delay':
          await new Promise((resolve) => setTimeout(resolve, op.ms));
          return;
        case 'drainTimeout':
          world.drain(op.ms + 1);
          return;
        case 'drain': {
          const drained = world.drain();
          // With handlers that never settle (close-ended programs) a drain rightly waits: do not block on it.
          if (end.end === 'close') return;
          if ((await outcomeWithin(drained.done, HANG_MS)).state !== 'resolved') world.violation('drain() never settled');
          return;
        }
      }
  }
}

function afterPublish(world: World, refused: unknown, end: ProgramEnd): void {
  if (end.maxQueued === undefined) {
    if (refused !== undefined) world.violation(`publish refused without a bound: ${String(refused)}`);
    return;
  }
  if (refused !== undefined && !(refused instanceof BackpressureError)) world.violation(`publish refused with ${String(refused)} instead of BackpressureError`);
  const unfinished = world.unfinished().length;
  if (unfinished > end.maxQueued) world.violation(`${unfinished} accepted, unfinished events with maxQueued ${end.maxQueued}`);
}

function hasNever(config: WorldConfig): boolean {
  return [...config.listeners.map((l) => l.behaviour), ...(config.providers ? Object.values(config.providerBehaviours) : [])].some((b) => b.okStyle === 'never');
}

/**
 * API.md §5.3: events published before start-up finished are kept (up to maxBufferedBeforeReady, then
 * BufferOverflowError) and delivered in order once handlers are registered; none is dispatched before.
 */
function checkEarly(world: World): void {
  const records = world.earlySeqs.map((seq) => world.events.get(seq)!);
  for (const record of records) {
    if (record.refused !== undefined && !(record.refused instanceof BufferOverflowError)) world.violation(`#${record.seq} published before init() refused with ${String(record.refused)}`);
  }
  const limit = world.config.maxBufferedBeforeReady;
  const accepted = records.filter((r) => r.refused === undefined && r.report === undefined);
  if (limit !== undefined && accepted.length > limit) world.violation(`${accepted.length} events buffered before init(), maxBufferedBeforeReady ${limit}`);
  if (limit === undefined && records.some((r) => r.refused !== undefined)) world.violation('a publish before init() was refused without a small maxBufferedBeforeReady');
  world.earlyCheck = () => {
    const order = records.filter((r) => r.dispatchedAt !== undefined).sort((a, b) => a.dispatchedAt! - b.dispatchedAt!).map((r) => r.seq);
    const published = [...order].sort((a, b) => a - b);
    if (order.join() !== published.join()) world.violation(`events published before init() dispatched as #${order.join(', #')}`);
  };
}
