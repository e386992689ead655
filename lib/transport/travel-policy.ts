import type { EventEnvelope, EventName } from '../event-envelope.js';
import { compilePattern, isInstanceOfClass, isPattern, type EventClass, type EventSelector } from '../event-name.js';

/** Decisions cached per event name; past it the cache starts over. */
const MAX_CACHED_NAMES = 10_000;

/**
 * Which events go through the transport (option `travel`): by name, pattern or class. The rest stay
 * in this process, with in-process latency and semantics (`publishAndWait` waits for the local
 * handlers). Without the option every event travels.
 */
export class TravelPolicy {
  private readonly names = new Set<EventName>();
  private readonly patterns: ((name: EventName) => boolean)[] = [];
  private readonly classes: EventClass[] = [];
  private readonly byName = new Map<EventName, boolean>();

  constructor(selectors: readonly EventSelector[] | undefined) {
    this.everything = selectors === undefined;
    for (const selector of selectors ?? []) {
      if (typeof selector === 'function') this.classes.push(selector);
      else if (typeof selector === 'string' && isPattern(selector)) this.patterns.push(compilePattern(selector));
      else this.names.add(selector);
    }
  }

  private readonly everything: boolean;

  travels(envelope: EventEnvelope): boolean {
    if (this.everything) return true;
    let byName = this.byName.get(envelope.name);
    if (byName === undefined) {
      byName = this.names.has(envelope.name) || this.patterns.some((matches) => matches(envelope.name));
      if (this.byName.size >= MAX_CACHED_NAMES) this.byName.clear();
      this.byName.set(envelope.name, byName);
    }
    return byName || (this.classes.length !== 0 && this.classes.some((c) => isInstanceOfClass(envelope.payload, c)));
  }
}
