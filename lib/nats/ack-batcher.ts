import type { JsMsg } from '@nats-io/jetstream';

type Reply = { msg: JsMsg; delayMs: number | undefined; kind: 'ack' | 'nak' };

/**
 * Sends acknowledgements in batches, once per event-loop turn. Each message settles at its own depth
 * of promise callbacks, and the NATS client flushes its socket buffer in a microtask: acknowledging
 * right away would cost one socket write per message. Gathered, a turn's acknowledgements go out in one.
 */
export class AckBatcher {
  private pending: Reply[] = [];
  private scheduled = false;

  ack(msg: JsMsg): void {
    this.push({ msg, delayMs: undefined, kind: 'ack' });
  }

  /** Gives the message back; redelivered after `delayMs` (now when undefined). */
  nak(msg: JsMsg, delayMs?: number): void {
    this.push({ msg, delayMs, kind: 'nak' });
  }

  /** Sends what is waiting now (before the connection drains). */
  flush = (): void => {
    this.scheduled = false;
    const replies = this.pending;
    this.pending = [];
    for (const { msg, delayMs, kind } of replies) {
      try {
        if (kind === 'ack') msg.ack();
        else msg.nak(delayMs);
      } catch {
        // The connection stopped publishing: the server redelivers after the ack wait.
      }
    }
  };

  private push(reply: Reply): void {
    this.pending.push(reply);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
}
