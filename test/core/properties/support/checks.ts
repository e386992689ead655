import { DeliveryAbandonedError, type DeliveryReport } from '../../../../lib/index.js';
import type { EventRecord, HandlerModel, World } from './world.js';

/**
 * The reference model of API.md §2-5, checked after a program ran (what `World` checks while it runs:
 * nothing inside publish, concurrency limits, attempt numbers, nothing after close or off).
 *
 * `settled`: the program ended with a completed drain() or a close() within its timeout, so every
 * handler that must see an event has finished with it. Otherwise (a close that gave up) "at most".
 */
export function checkDeliveries(world: World, settled: boolean): void {
  const events = [...world.events.values()];
  for (const event of events) {
    for (const handler of world.handlers.values()) checkPair(world, handler, event, settled);
    if (event.report !== undefined) checkReport(world, event, settled);
  }
  for (const handler of world.handlers.values()) {
    if (handler.concurrency === 1) checkPublishOrder(world, handler);
  }
  for (const event of events) checkPriorities(world, event);
  checkScopedInstances(world);
}

function checkPair(world: World, handler: HandlerModel, event: EventRecord, settled: boolean): void {
  const calls = world.callsOf(handler.label, event.seq);
  const expectation = world.expectation(handler, event);
  const owed = world.owed(handler);
  const what = `${handler.label} on #${event.seq} (${event.name})`;
  const failures = world.failures.filter((f) => f.seq === event.seq && f.label === handler.label);
  const deadLetters = world.deadLetters.filter((f) => f.seq === event.seq && f.label === handler.label);
  if (expectation === 'never') {
    if (calls.length !== 0) world.violation(`${what}: ran ${calls.length}× but must not (${event.refused !== undefined ? 'refused' : 'no match, filtered out or not subscribed'})`);
    if (failures.length !== 0) world.violation(`${what}: ${failures.length} failures on errors$ for a handler that must not run`);
    return;
  }
  if (calls.length > owed) world.violation(`${what}: ran ${calls.length}×, owed at most ${owed}`);
  const deadLettered = handler.behaviour.failures >= handler.attempts;
  if (expectation === 'must' && settled) {
    if (calls.length !== owed) world.violation(`${what}: ran ${calls.length}×, expected exactly ${owed}`);
    const failed = owed - (deadLettered ? 0 : 1);
    if (failures.length !== failed) world.violation(`${what}: ${failures.length} failures on errors$, expected ${failed}`);
    const finals = failures.filter((f) => f.final).map((f) => f.attempt);
    if (JSON.stringify(finals) !== JSON.stringify(deadLettered ? [owed] : [])) {
      world.violation(`${what}: final failures at attempts [${finals.join(',')}], expected [${deadLettered ? owed : ''}]`);
    }
    if (deadLetters.length !== (deadLettered ? 1 : 0)) world.violation(`${what}: ${deadLetters.length} dead letters, expected ${deadLettered ? 1 : 0}`);
  } else {
    if (failures.length > owed) world.violation(`${what}: ${failures.length} failures on errors$, at most ${owed} attempts`);
    if (deadLetters.length > 1) world.violation(`${what}: ${deadLetters.length} dead letters`);
  }
  const attempts = failures.map((f) => f.attempt);
  if (attempts.some((a, i) => a !== i + 1)) world.violation(`${what}: failed attempts reported as [${attempts.join(',')}]`);
}

function checkReport(world: World, event: EventRecord, settled: boolean): void {
  const tracked = event.report!;
  const what = `publishAndWait #${event.seq} (${event.name})`;
  if (tracked.state === 'rejected') {
    // Only a close() that gave up may abandon a delivery, and it says so with DeliveryAbandonedError.
    const abandoned = !settled && tracked.error instanceof DeliveryAbandonedError;
    if (event.refused === undefined && !abandoned) world.violation(`${what} rejected: ${String(tracked.error)}`);
    return;
  }
  if (tracked.state === 'pending') {
    if (settled) world.violation(`${what} still pending after the program settled`);
    return;
  }
  const report = tracked.value as DeliveryReport;
  if ((report.envelope.payload as { seq?: number } | undefined)?.seq !== event.seq) world.violation(`${what}: the report is another event's`);
  if (event.completeAtReport !== true) world.violation(`${what} resolved before every handler finished`);
  let minHandled = 0;
  let maybe = 0;
  const mustFail: string[] = [];
  const mayFail: string[] = [];
  for (const handler of world.handlers.values()) {
    const expectation = world.expectation(handler, event);
    if (expectation === 'never') continue;
    const dead = handler.behaviour.failures >= handler.attempts;
    if (expectation === 'may') {
      maybe++;
      if (dead) mayFail.push(handler.label);
    } else if (dead) mustFail.push(handler.label);
    else minHandled++;
  }
  const failed = report.failed.map((f) => f.handler);
  if (report.handled < minHandled || report.handled > minHandled + maybe) {
    world.violation(`${what}: handled ${report.handled}, expected ${maybe === 0 ? minHandled : `${minHandled}..${minHandled + maybe}`}`);
  }
  for (const label of mustFail) if (!failed.includes(label)) world.violation(`${what}: failed lacks ${label}`);
  for (const label of failed) if (!mustFail.includes(label) && !mayFail.includes(label)) world.violation(`${what}: failed lists ${label}, which did not dead-letter`);
  if (new Set(failed).size !== failed.length) world.violation(`${what}: failed lists a handler twice: ${failed.join(', ')}`);
}

/** concurrency: 1 — one at a time (checked while running) and in publish order. */
function checkPublishOrder(world: World, handler: HandlerModel): void {
  const firsts = [...world.calls.entries()]
    .filter(([key]) => key.startsWith(`${handler.label}#`))
    .map(([, calls]) => calls[0])
    .filter((c) => c !== undefined)
    .sort((a, b) => a.start - b.start);
  for (let i = 1; i < firsts.length; i++) {
    if (firsts[i].epoch !== firsts[i - 1].epoch) continue;
    const before = world.events.get(firsts[i - 1].seq)!;
    const after = world.events.get(firsts[i].seq)!;
    if (before.acceptedAt > after.acceptedAt) {
      world.violation(`${handler.label} (concurrency 1) started #${after.seq} after #${before.seq}, published the other way round`);
      return;
    }
  }
}

/** Among one event's handlers that start at dispatch (no slot to wait for, no instance to build). */
function checkPriorities(world: World, event: EventRecord): void {
  const starts: { label: string; priority: number; start: number }[] = [];
  for (const handler of world.handlers.values()) {
    if (handler.kind === 'scoped' || handler.concurrency !== Infinity) continue;
    const first = world.callsOf(handler.label, event.seq)[0];
    if (first !== undefined) starts.push({ label: handler.label, priority: handler.priority, start: first.start });
  }
  starts.sort((a, b) => a.start - b.start);
  for (let i = 1; i < starts.length; i++) {
    if (starts[i].priority > starts[i - 1].priority) {
      world.violation(`#${event.seq}: ${starts[i].label} (priority ${starts[i].priority}) started after ${starts[i - 1].label} (priority ${starts[i - 1].priority})`);
      return;
    }
  }
}

/** A request-scoped provider: one instance per event, shared by its handlers and by retries. */
function checkScopedInstances(world: World): void {
  const ownerOf = new Map<number, number>();
  for (const [key, calls] of world.calls) {
    for (const call of calls) {
      if (call.instanceId === undefined) continue;
      const owner = ownerOf.get(call.instanceId);
      if (owner !== undefined && owner !== call.seq) world.violation(`${key}: scoped instance ${call.instanceId} also served #${owner}`);
      ownerOf.set(call.instanceId, call.seq);
    }
  }
  const perEvent = new Map<number, Set<number>>();
  for (const calls of world.calls.values()) {
    for (const call of calls) {
      if (call.instanceId === undefined) continue;
      let ids = perEvent.get(call.seq);
      if (ids === undefined) perEvent.set(call.seq, (ids = new Set()));
      ids.add(call.instanceId);
    }
  }
  for (const [seq, ids] of perEvent) if (ids.size > 1) world.violation(`#${seq}: ${ids.size} scoped instances of one provider (expected 1, retries included)`);
}

/** Every promise the bus returned has settled (checked once close() resolved). */
export function checkAllSettled(world: World): void {
  const pending = world.tracked.filter((t) => t.state === 'pending').map((t) => t.what);
  if (pending.length !== 0) world.violation(`still pending after close() resolved: ${pending.slice(0, 5).join('; ')}${pending.length > 5 ? ` (+${pending.length - 5})` : ''}`);
}
