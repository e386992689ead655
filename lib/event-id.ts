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
  /**
   * Envelopes store their time as an offset from this base: a small integer that V8 keeps inline,
   * where a full epoch-milliseconds double would cost a 16-byte heap number per queued event.
   */
  readonly timeBase = Date.now();
  private lastTime = 0;
  private sequence = 0;
  private cachedNow = 0;
  private clockFresh = false;
  private clockReads = 0;
  private readonly expireClock = (): void => {
    this.clockFresh = false;
  };

  /**
   * Date.now(), read at most once per 64 calls within one synchronous run (a tight publish loop would
   * otherwise spend a third of its time reading the clock). Stale by at most 63 events of one tick.
   */
  now(): number {
    if (!this.clockFresh) {
      this.clockFresh = true;
      this.clockReads = 0;
      queueMicrotask(this.expireClock);
      return (this.cachedNow = Date.now());
    }
    if ((++this.clockReads & 63) === 0) this.cachedNow = Date.now();
    return this.cachedNow;
  }

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
