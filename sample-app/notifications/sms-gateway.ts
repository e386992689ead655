import { Injectable } from '@nestjs/common';

export interface Sms {
  to: string;
  text: string;
}

/** Stands in for an SMS provider: messages are kept in `sent` instead of leaving the machine. */
@Injectable()
export class SmsGateway {
  readonly sent: Sms[] = [];

  send(sms: Sms): void {
    this.sent.push(sms);
  }
}
