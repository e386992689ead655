import type { LoggerService } from '@nestjs/common';
import { Subject } from 'rxjs';
import { Envelope, type EventEnvelope } from '../event-envelope.js';
import { describeEventName } from '../event-name.js';
import type { Handler } from '../handler.js';
import type { HandlerFailure } from '../interfaces/handler-failure.interface.js';
import type { HandlerContext } from './handler-context.js';

/** What happens after a failed attempt. */
export type FailureOutcome = 'retry' | 'redeliver' | 'dead-letter';

/**
 * Tells the world about failed attempts: one log line with `Class.method` and the event id,
 * `errors$` for every attempt, `deadLetters$` for final ones. Subscribers run outside handler context.
 */
export class FailureReporter {
  readonly errors$ = new Subject<HandlerFailure>();
  readonly deadLetters$ = new Subject<HandlerFailure>();

  constructor(
    private readonly logger: LoggerService,
    private readonly context: HandlerContext,
  ) {}

  report(handler: Handler, envelope: EventEnvelope, attempt: number, error: unknown, outcome: FailureOutcome, retryDelayMs = 0): void {
    const final = outcome === 'dead-letter';
    const seen = attempt === 1 ? envelope : (envelope as Envelope).withAttempt(attempt);
    const failure: HandlerFailure = { envelope: seen, handler: handler.label, error, attempt, final };
    if (this.errors$.observed) this.context.outside(() => this.errors$.next(failure));
    const what = `${handler.label} failed on event ${describeEventName(envelope.name)} (id ${envelope.id}), attempt ${attempt}/${handler.attempts}`;
    if (outcome === 'redeliver') {
      this.logger.warn(`${what}; the broker will redeliver it: ${errorMessage(error)}`);
    } else if (outcome === 'retry') {
      this.logger.warn(`${what}; retrying in ${Math.round(retryDelayMs)}ms: ${errorMessage(error)}`);
    } else {
      this.logger.error(`${what}; dead-lettered: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
      if (this.deadLetters$.observed) this.context.outside(() => this.deadLetters$.next(failure));
    }
  }

  /** A subscriber of one of the bus's streams threw: contained and logged, never a crash. */
  subscriberThrew(error: unknown): void {
    this.logger.error(`An EventBus subscriber threw: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
  }
}

export function errorMessage(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'an error that cannot be printed';
  }
}
