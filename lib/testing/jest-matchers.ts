/**
 * Opt-in Jest matchers. Nothing here imports Jest: register them with `expect.extend(eventBusMatchers)`
 * (in a test file or a setupFilesAfterEach module). Jest's matcher context is typed loosely below so
 * the library builds without @types/jest.
 */
import type { EventSelector } from '../event-name.js';
import { describeFailures, describePublished, eventLabel } from './describe-events.js';
import type { EventRecorder } from './event-recorder.js';

/** What `toHaveFailed` can check besides the handler. */
export interface ExpectedFailure {
  /** The event's name, a pattern or a class. */
  event?: EventSelector;
  /** How many attempts were made, the first one included. */
  attempts?: number;
  /** A substring or RegExp of the error message, an error class, or a value compared with Jest's equality. */
  error?: unknown;
}

/** The part of Jest's matcher `this` these matchers use. */
interface MatcherContextLike {
  isNot?: boolean;
  expand?: boolean;
  equals(a: unknown, b: unknown): boolean;
  utils: {
    matcherHint(matcherName: string, received?: string, expected?: string, options?: { isNot?: boolean }): string;
    printDiffOrStringify(expected: unknown, received: unknown, expectedLabel: string, receivedLabel: string, expand: boolean): string;
    printExpected(value: unknown): string;
    printReceived(value: unknown): string;
  };
}

interface MatcherResult {
  pass: boolean;
  message(): string;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // The type parameters must match @types/jest's declaration for the interfaces to merge.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> {
      /** Some recorded event matches the selector (and has a payload equal to `payload`, if given). */
      toHavePublished(selector: EventSelector, payload?: unknown): R;
      /** Exactly `times` recorded events match the selector. */
      toHavePublishedTimes(selector: EventSelector, times: number): R;
      /** The handler (`'Class.method'`, or `'Class'`) gave up on an event, optionally of this event / attempts / error. */
      toHaveFailed(handler: string, expected?: ExpectedFailure): R;
    }
  }
}

export const eventBusMatchers = {
  toHavePublished(this: MatcherContextLike, received: unknown, selector: EventSelector, ...payload: [] | [unknown]): MatcherResult {
    const recorder = asRecorder(received, 'toHavePublished');
    const hasPayload = payload.length !== 0;
    const label = eventLabel(selector);
    const all = recorder.published();
    const candidates = recorder.published(selector);
    const match = hasPayload ? candidates.find((envelope) => this.equals(envelope.payload, payload[0])) : candidates[0];
    const hint = this.utils.matcherHint('toHavePublished', 'recorder', hasPayload ? `${label}, payload` : label, { isNot: this.isNot });
    if (match !== undefined) {
      return {
        pass: true,
        message: () =>
          `${hint}\n\nExpected no ${label} event${hasPayload ? ' with this payload' : ''}, but event #${all.indexOf(match) + 1} ` +
          `matched:\n  ${this.utils.printReceived(match.payload)}\n\n${describePublished(all)}`,
      };
    }
    return {
      pass: false,
      message: () => {
        if (candidates.length === 0) return `${hint}\n\nNo ${label} event was published.\n\n${describePublished(all)}`;
        const closest = candidates[candidates.length - 1];
        return (
          `${hint}\n\n${plural(candidates.length, `${label} event`)} published, none with this payload. ` +
          `Compared with the last one (#${all.indexOf(closest) + 1}):\n\n` +
          `${this.utils.printDiffOrStringify(payload[0], closest.payload, 'Expected payload', 'Received payload', this.expand ?? false)}\n\n` +
          describePublished(all)
        );
      },
    };
  },

  toHavePublishedTimes(this: MatcherContextLike, received: unknown, selector: EventSelector, times: number): MatcherResult {
    const recorder = asRecorder(received, 'toHavePublishedTimes');
    const label = eventLabel(selector);
    const count = recorder.count(selector);
    const hint = this.utils.matcherHint('toHavePublishedTimes', 'recorder', `${label}, ${times}`, { isNot: this.isNot });
    return {
      pass: count === times,
      message: () =>
        `${hint}\n\nExpected ${this.isNot ? 'not ' : ''}${plural(times, `${label} event`, false)}, ` +
        `received ${count}.\n\n${describePublished(recorder.published())}`,
    };
  },

  toHaveFailed(this: MatcherContextLike, received: unknown, handler: string, expected: ExpectedFailure = {}): MatcherResult {
    const recorder = asRecorder(received, 'toHaveFailed');
    const ofHandler = recorder.failures({ handler, event: expected.event });
    const match = ofHandler.find(
      (f) => (expected.attempts === undefined || f.attempts === expected.attempts) && (!('error' in expected) || errorMatches(this, f.error, expected.error)),
    );
    const wanted = describeExpectedFailure(handler, expected);
    const hint = this.utils.matcherHint('toHaveFailed', 'recorder', 'handler', { isNot: this.isNot });
    if (match !== undefined) {
      return { pass: true, message: () => `${hint}\n\nExpected ${wanted} not to happen, but it did:\n${describeFailures([match])}` };
    }
    return {
      pass: false,
      message: () => {
        const all = recorder.failures();
        const seen = ofHandler.length !== 0 ? ofHandler : all;
        const what =
          ofHandler.length !== 0
            ? `${handler} failed, but not as expected:`
            : all.length === 0
              ? 'No handler failed.'
              : `${handler} did not fail${expected.event === undefined ? '' : ` on ${eventLabel(expected.event)}`}. These did:`;
        return `${hint}\n\nExpected ${wanted}.\n${what}\n${seen.length === 0 ? '' : `${describeFailures(seen)}\n`}\n${describePublished(recorder.published())}`;
      },
    };
  },
};

/** Duck-typed, so a recorder from another copy of the library (dist vs. sources) is accepted too. */
function asRecorder(received: unknown, matcher: string): EventRecorder {
  const candidate = received as Partial<EventRecorder> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.published !== 'function' || typeof candidate.failures !== 'function') {
    throw new TypeError(
      `expect(received).${matcher}(): received must be an EventRecorder, from createEventTestingModule() or ` +
        `EventRecorder.attach(moduleRef); got ${received === null ? 'null' : typeof received}.`,
    );
  }
  return candidate as EventRecorder;
}

function errorMatches(context: MatcherContextLike, actual: unknown, expected: unknown): boolean {
  const message = actual instanceof Error ? actual.message : String(actual);
  if (typeof expected === 'string') return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === 'function') return actual instanceof expected;
  return context.equals(actual, expected);
}

function describeExpectedFailure(handler: string, expected: ExpectedFailure): string {
  const parts = [`${handler} to fail`];
  if (expected.event !== undefined) parts.push(`on ${eventLabel(expected.event)}`);
  if (expected.attempts !== undefined) parts.push(`after ${plural(expected.attempts, 'attempt', false)}`);
  if ('error' in expected) parts.push(`with error ${describeErrorExpectation(expected.error)}`);
  return parts.join(' ');
}

function describeErrorExpectation(expected: unknown): string {
  if (typeof expected === 'string') return `containing ${JSON.stringify(expected)}`;
  if (expected instanceof RegExp) return `matching ${String(expected)}`;
  if (typeof expected === 'function') return `of class ${expected.name}`;
  return `equal to ${String(expected)}`;
}

function plural(n: number, noun: string, verb = true): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}${verb ? (n === 1 ? ' was' : ' were') : ''}`;
}
