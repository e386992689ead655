import type { JsMsg } from '@nats-io/jetstream';
import { InvalidArgumentError } from '@nats-io/transport-node';
import type { LoggerService } from '@nestjs/common';
import { deadLetterMessage, type DeadLetter } from './dead-letter-message.js';
import type { ReliablePublisher } from './reliable-publisher.js';

/**
 * Writes dead letters, each within a bounded time: a dead-letter stream that was deleted, or that
 * refuses writes (limits, permissions), must not keep a message (and its handling slot) forever. When a
 * write fails, `repair` recreates what was deleted, the failure shows in `error` (the health indicator
 * reports down), and the caller gives the message back for a later try.
 */
export class DeadLetterer {
  /** The last failure to dead-letter, until a dead letter is written again. */
  error: string | undefined;

  constructor(
    private readonly publisher: ReliablePublisher,
    private readonly subject: string,
    private readonly group: string,
    private readonly stream: string,
    private readonly timeoutMs: number,
    private readonly repair: () => Promise<void>,
    private readonly logger: () => LoggerService,
  ) {}

  /** True once every letter is stored; false when one could not be (the message must not be acknowledged). */
  async send(msg: JsMsg, letters: readonly DeadLetter[]): Promise<boolean> {
    for (const letter of letters) {
      let outgoing = deadLetterMessage(this.subject, this.group, msg, letter);
      for (;;) {
        try {
          await this.publisher.publish(outgoing, { giveUpAfterMs: this.timeoutMs });
          break;
        } catch (error) {
          if (isOverMaxPayload(error) && outgoing.body.length !== 0) {
            // The original body plus the dead-letter headers exceed the server's max_payload: no retry can
            // change that, so send the letter without the body (the event stream still has it).
            this.logger().warn(
              `NATS message ${msg.seq} (${msg.data.length} bytes) is too large to dead-letter with its body; ` +
                `dead-lettered without it (read it from stream "${this.stream}" at sequence ${msg.seq}).`,
            );
            outgoing = deadLetterMessage(this.subject, this.group, msg, letter, true);
            continue;
          }
          this.error = `could not dead-letter to ${this.subject}: ${String(error)}`;
          this.logger().error(`Could not dead-letter NATS message ${msg.seq} to ${this.subject} (${String(error)}); it is given back and tried again later.`);
          await this.repair().catch((repairError: unknown) => {
            this.logger().error(`Could not recreate the dead-letter stream: ${String(repairError)}`);
          });
          return false;
        }
      }
    }
    this.error = undefined;
    return true;
  }
}

/** The client refused to send a message over the server's max_payload (a permanent failure). */
export function isOverMaxPayload(error: unknown): boolean {
  return error instanceof InvalidArgumentError && error.message.includes('max_payload');
}
