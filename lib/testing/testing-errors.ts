import type { EventEnvelope } from '../event-envelope.js';
import { DrainTimeoutError, EventBusError } from '../errors.js';
import { describeFailures, describePublished } from './describe-events.js';
import type { RecordedFailure } from './recorded-failure.js';

/**
 * The event a test expected was not recorded: `recorder.waitFor()` timed out, or `recorder.last()`
 * found none. The message lists what was published instead.
 */
export class EventNotPublishedError extends EventBusError {
  constructor(
    /** What was asked for, as shown in the message. */
    readonly expected: string,
    /** Every event recorded when the error was raised, in order. */
    readonly published: readonly EventEnvelope[],
    /** Set when raised by `waitFor()`. */
    readonly timeoutMs: number | undefined,
    /** How many events had the right name but were rejected by `where`. */
    readonly rejectedByWhere: number,
  ) {
    const what =
      timeoutMs === undefined
        ? `No ${expected} event was published.`
        : `waitFor(${expected}) timed out after ${timeoutMs}ms: no matching event was published.`;
    const where =
      rejectedByWhere === 0
        ? ''
        : ` ${rejectedByWhere} ${expected} event${rejectedByWhere === 1 ? ' was' : 's were'} published, but \`where\` rejected ${rejectedByWhere === 1 ? 'it' : 'them'}.`;
    super(`${what}${where}\n${describePublished(published)}`);
  }
}

/** `recorder.settle()` gave up: a handler is still running (a promise that never settles?) or retrying. */
export class SettleTimeoutError extends DrainTimeoutError {
  constructor(timeoutMs: number, unfinished: number, published: readonly EventEnvelope[]) {
    super(timeoutMs, unfinished);
    this.message =
      `recorder.settle() timed out after ${timeoutMs}ms with ${unfinished} handler run${unfinished === 1 ? '' : 's'} or event${unfinished === 1 ? '' : 's'} still pending. ` +
      'A handler that returns a promise which never settles, or a long retry backoff, keeps the bus busy: ' +
      'fix the handler, or pass a longer { timeoutMs }.\n' +
      describePublished(published);
  }
}

/** `recorder.assertNoFailures()` found handlers that gave up on an event. */
export class UnexpectedHandlerFailureError extends EventBusError {
  constructor(readonly failures: readonly RecordedFailure[]) {
    super(
      `${failures.length} handler run${failures.length === 1 ? '' : 's'} failed for good (dead-lettered):\n` +
        `${describeFailures(failures)}\n` +
        'Fix the handler, or, if the failure is what the test expects, assert it with recorder.failures() ' +
        "(or expect(recorder).toHaveFailed('Class.method')) instead of assertNoFailures().",
    );
  }
}

/** The given module or application has no EventBus to record from. */
export class EventBusNotFoundError extends EventBusError {
  constructor(cause: unknown) {
    super(
      'EventRecorder.attach() found no EventBus in this module or application. Import ' +
        'EventBusModule.forRoot() in the testing module (directly or through your AppModule), and pass the ' +
        `compiled TestingModule, the application, or the EventBus itself. (${cause instanceof Error ? cause.message : String(cause)})`,
    );
  }
}
