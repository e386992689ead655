/**
 * Per message (stream sequence): the handlers of this service that are done with it, kept between a
 * failed delivery and its redelivery so a retry does not run them again. Bounded: a message redelivered
 * to another instance never comes back here, and its entry must not live forever.
 */
export class SettledHandlersMemory {
  private readonly entries = new Map<number, ReadonlySet<string>>();

  constructor(private readonly capacity = 10_000) {}

  get(sequence: number): ReadonlySet<string> | undefined {
    return this.entries.size === 0 ? undefined : this.entries.get(sequence);
  }

  remember(sequence: number, settled: readonly string[]): void {
    this.entries.delete(sequence);
    this.entries.set(sequence, new Set(settled));
    if (this.entries.size > this.capacity) {
      // Map iteration is insertion order: the first key is the oldest.
      this.entries.delete(this.entries.keys().next().value as number);
    }
  }

  forget(sequence: number): void {
    if (this.entries.size !== 0) this.entries.delete(sequence);
  }

  get size(): number {
    return this.entries.size;
  }
}
