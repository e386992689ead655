import type { EventEnvelope } from './event-envelope.js';
import { compilePattern, isInstanceOfClass, isPattern, selectorProblem, type EventSelector } from './event-name.js';
import { InvalidEventError } from './errors.js';

/** A predicate over envelopes for a name, pattern or class (what `ofEvent` and `waitFor` take). */
export function envelopeMatcher(selector: EventSelector): (envelope: EventEnvelope) => boolean {
  const problem = selectorProblem(selector);
  if (problem !== undefined) throw new InvalidEventError(`Cannot match events: ${problem}.`);
  if (typeof selector === 'function') return (envelope) => isInstanceOfClass(envelope.payload, selector);
  if (typeof selector === 'string' && isPattern(selector)) {
    const matches = compilePattern(selector);
    return (envelope) => matches(envelope.name);
  }
  return (envelope) => envelope.name === selector;
}
