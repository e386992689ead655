/**
 * A first-in first-out queue over one array: O(1) push and shift, no per-item allocation, and the
 * consumed prefix is released in chunks so a long backlog does not pin memory.
 */
export class FifoQueue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 4096 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Visits queued items in order without removing them. */
  forEach(visit: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) visit(this.items[i] as T);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
