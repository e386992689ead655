/**
 * Who waits for the bus to go idle (`drain()`, shutdown). A waiter that gives up (a drain timeout)
 * removes itself, so repeated timed-out drains do not pile up.
 */
export class IdleWaiters {
  private readonly waiters = new Set<() => void>();

  get size(): number {
    return this.waiters.size;
  }

  /** Adds a waiter; returns the function that removes it. */
  add(resolve: () => void): () => void {
    this.waiters.add(resolve);
    return () => this.waiters.delete(resolve);
  }

  wakeAll(): void {
    if (this.waiters.size === 0) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }
}
