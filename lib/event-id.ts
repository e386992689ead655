import { randomBytes } from 'node:crypto';

const TIME_WIDTH = 10;
const SEQ_WIDTH = 5;

/**
 * Time-ordered unique ids: `<ms since epoch, base32><sequence within that ms, base32><process tag>`.
 * Sorting ids as strings sorts them by creation time; within one process the sequence keeps them
 * strictly increasing; the random process tag keeps processes apart. Generation costs a counter bump:
 * the string itself is built only when someone reads the id (see Envelope).
 */
export class EventIdGenerator {
  private readonly processTag = randomBytes(5).readUIntBE(0, 5).toString(32).padStart(8, '0');
  private lastTime = 0;
  private sequence = 0;

  /** Returns the sequence number to pair with `time` (which it may move forward to stay monotonic). */
  nextSequence(time: number): number {
    if (time > this.lastTime) {
      this.lastTime = time;
      this.sequence = 0;
      return 0;
    }
    return ++this.sequence;
  }

  /** The clock as this generator sees it: never behind an id already issued. */
  get time(): number {
    return this.lastTime;
  }

  format(time: number, sequence: number): string {
    // Past 32^5 ids in one millisecond the sequence only widens: still unique, order kept within the ms.
    return (
      time.toString(32).padStart(TIME_WIDTH, '0') +
      sequence.toString(32).padStart(SEQ_WIDTH, '0') +
      this.processTag
    );
  }
}
