/**
 * Per message (its stream sequence or entry id): the handlers of this service that are done with it, kept between a
 * failed delivery and its redelivery so a retry does not run them again. Bounded: a message redelivered
 * to another instance never comes back here, and its entry must not live forever. Each entry also holds
 * the event id, and applies only to that event: a stream deleted and created again reuses sequences.
 */
export class SettledHandlersMemory<Key = number> {
  private readonly entries = new Map<Key, { id: string; settled: ReadonlySet<string> }>();

  constructor(private readonly capacity = 10_000) {}

  get(sequence: Key, id: string): ReadonlySet<string> | undefined {
    if (this.entries.size === 0) return undefined;
    const entry = this.entries.get(sequence);
    return entry?.id === id ? entry.settled : undefined;
  }

  remember(sequence: Key, id: string, settled: readonly string[]): void {
    this.entries.delete(sequence);
    this.entries.set(sequence, { id, settled: new Set(settled) });
    if (this.entries.size > this.capacity) {
      // Map iteration is insertion order: the first key is the oldest.
      this.entries.delete(this.entries.keys().next().value as Key);
    }
  }

  forget(sequence: Key): void {
    if (this.entries.size !== 0) this.entries.delete(sequence);
  }

  get size(): number {
    return this.entries.size;
  }
}
