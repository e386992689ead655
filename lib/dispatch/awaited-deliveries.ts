import type { Delivery } from './delivery.js';

/**
 * Deliveries somebody awaits (publishAndWait, transport deliveries), so the bus can settle every one
 * of them if it gives up. An intrusive doubly-linked list: adding and removing cost no hashing, on the
 * path of every `publishAndWait`.
 */
export class AwaitedDeliveries {
  private head: Delivery | undefined = undefined;

  add(delivery: Delivery): void {
    delivery.next = this.head;
    if (this.head !== undefined) this.head.previous = delivery;
    this.head = delivery;
  }

  remove(delivery: Delivery): void {
    const { previous, next } = delivery;
    if (previous !== undefined) previous.next = next;
    else if (this.head === delivery) this.head = next;
    else return; // not in the list
    if (next !== undefined) next.previous = previous;
    delivery.previous = delivery.next = undefined;
  }

  /** Empties the list, returning what it held. */
  takeAll(): Delivery[] {
    const all: Delivery[] = [];
    for (let d = this.head; d !== undefined; d = d.next) all.push(d);
    for (const d of all) d.previous = d.next = undefined;
    this.head = undefined;
    return all;
  }
}
