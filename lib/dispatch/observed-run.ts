import type { EventEnvelope } from '../event-envelope.js';
import type { Handler } from '../handler.js';
import type { HandlerRunObservation, HandlerRunOutcome } from '../instrumentation/bus-instrumentation.js';
import type { Delivery } from './delivery.js';
import type { RunOutcomeListener } from './handler-run.js';

/** The dispatcher as an ObservedRun sees it: where outcomes go, and what a failure leads to. */
export interface ObservedOutcomes extends RunOutcomeListener {
  failureOutcome(handler: Handler, attempt: number, delivery: Delivery | undefined): HandlerRunOutcome;
}

/**
 * One attempt with telemetry on: ends the attempt's observation with its outcome, then passes the
 * outcome on to the dispatcher. Only built when an instrumentation observes the attempt, so runs
 * without telemetry still allocate nothing.
 */
export class ObservedRun implements RunOutcomeListener {
  constructor(
    private readonly next: ObservedOutcomes,
    readonly observation: HandlerRunObservation,
  ) {}

  runSucceeded(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined): void {
    this.observation.end('succeeded');
    this.next.runSucceeded(handler, envelope, attempt, delivery);
  }

  runFiltered(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined): void {
    this.observation.end('filtered');
    this.next.runFiltered(handler, envelope, attempt, delivery);
  }

  runFailed(handler: Handler, envelope: EventEnvelope, attempt: number, delivery: Delivery | undefined, error: unknown): void {
    this.observation.end(this.next.failureOutcome(handler, attempt, delivery), error);
    this.next.runFailed(handler, envelope, attempt, delivery, error);
  }

  runWentAsync(handler: Handler): void {
    this.next.runWentAsync(handler);
  }

  runCameBack(handler: Handler): void {
    this.next.runCameBack(handler);
  }
}
