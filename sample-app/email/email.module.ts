import { Module } from '@nestjs/common';
import { EmailListener } from './email.listener.js';
import { Mailer } from './mailer.js';

@Module({
  providers: [Mailer, EmailListener],
})
export class EmailModule {}
