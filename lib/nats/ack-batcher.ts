import type { JsMsg } from '@nats-io/jetstream';

/**
 * Sends acknowledgements in batches, once per event-loop turn. Each message settles at its own depth
 * of promise callbacks, and the NATS client flushes its socket buffer in a microtask: acknowledging
 * right away would cost one socket write per message. Gathered, a turn's acknowledgements go out in one.
 */
export class AckBatcher {
  private acks: JsMsg[] = [];
  private naks: { msg: JsMsg; delayMs: number | undefined }[] = [];
  private scheduled = false;

  ack(msg: JsMsg): void {
    this.acks.push(msg);
    this.schedule();
  }

  /** Gives the message back; redelivered after `delayMs` (now when undefined). */
  nak(msg: JsMsg, delayMs?: number): void {
    this.naks.push({ msg, delayMs });
    this.schedule();
  }

  /** Sends what is waiting now (before the connection drains). */
  flush = (): void => {
    this.scheduled = false;
    const acks = this.acks;
    const naks = this.naks;
    if (acks.length !== 0) this.acks = [];
    if (naks.length !== 0) this.naks = [];
    try {
      for (let i = 0; i < acks.length; i++) acks[i].ack();
      for (const { msg, delayMs } of naks) msg.nak(delayMs);
    } catch {
      // The connection stopped publishing: the server redelivers after the ack wait.
    }
  };

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }
}
