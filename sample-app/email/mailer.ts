import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { SAMPLE_CONFIG, type SampleConfig } from '../sample.config.js';

export interface Email {
  to: string;
  subject: string;
  text: string;
}

/**
 * Stands in for an SMTP client: each message takes EMAIL_LATENCY_MS, like a real mail server would,
 * and is kept in `sent` instead of leaving the machine.
 */
@Injectable()
export class Mailer {
  readonly sent: Email[] = [];

  constructor(@Inject(SAMPLE_CONFIG) private readonly config: SampleConfig) {}

  async send(email: Email): Promise<void> {
    if (this.config.emailLatencyMs > 0) await sleep(this.config.emailLatencyMs);
    this.sent.push(email);
  }
}
