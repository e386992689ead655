import type { EventEnvelope } from '../event-envelope.js';
import type { Handler } from '../handler.js';
import type { HandlerRunObservation } from '../instrumentation/bus-instrumentation.js';
import type { Delivery } from './delivery.js';
import type { HandlerContext } from './handler-context.js';

/**
 * How a run ends, told to whoever started it (the dispatcher). The run is passed as its parts rather
 * than as an object: a run that settles synchronously, the common case, allocates nothing.
 */
export interface RunOutcomeListener {
  runSucceeded(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined): void;
  runFiltered(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined): void;
  runFailed(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined, error: unknown): void;
  /** The run returned a thenable: it settles later, through the methods above, after `runCameBack`. */
  runWentAsync(handler: Handler): void;
  runCameBack(handler: Handler): void;
}

/**
 * One attempt of one handler: its filter, the call, and adopting what it returned. Whatever the
 * handler returns or throws is contained: a value, a promise, a thenable whose `then` getter or call
 * throws, one that calls both callbacks or calls them twice. Exactly one outcome is reported.
 * `envelope` is the event as published; `seen` what this attempt shows the handler.
 */
export function runHandler(
  context: HandlerContext,
  handler: Handler,
  instance: object | undefined,
  envelope: EventEnvelope,
  seen: EventEnvelope,
  attempt: number,
  delivery: Delivery | undefined,
  listener: RunOutcomeListener,
  /** Telemetry of this attempt, if observed: the call runs through its `wrap` (e.g. inside its span). */
  observed?: HandlerRunObservation,
): void {
  let result: unknown;
  try {
    if (handler.filter !== undefined && !handler.filter(seen.payload, seen)) {
      listener.runFiltered(handler, envelope, attempt, delivery);
      return;
    }
    result = observed === undefined ? context.invoke(handler, instance, seen) : observed.wrap(invokeInContext)(context, handler, instance, seen);
  } catch (error) {
    listener.runFailed(handler, envelope, attempt, delivery, error);
    return;
  }
  if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
    listener.runSucceeded(handler, envelope, attempt, delivery);
    return;
  }
  let then: unknown;
  try {
    then = (result as { then?: unknown }).then;
  } catch (error) {
    listener.runFailed(handler, envelope, attempt, delivery, error);
    return;
  }
  if (typeof then !== 'function') {
    listener.runSucceeded(handler, envelope, attempt, delivery);
    return;
  }
  listener.runWentAsync(handler);
  let settled = false;
  const fulfilled = (): void => {
    if (settled) return;
    settled = true;
    listener.runCameBack(handler);
    listener.runSucceeded(handler, envelope, attempt, delivery);
  };
  const rejected = (error: unknown): void => {
    if (settled) return;
    settled = true;
    listener.runCameBack(handler);
    listener.runFailed(handler, envelope, attempt, delivery, error);
  };
  try {
    then.call(result, fulfilled, rejected);
  } catch (error) {
    rejected(error);
  }
}

function invokeInContext(context: HandlerContext, handler: Handler, instance: object | undefined, seen: EventEnvelope): unknown {
  return context.invoke(handler, instance, seen);
}
