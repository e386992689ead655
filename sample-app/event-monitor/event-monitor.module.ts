import { Module } from '@nestjs/common';
import { DeadLetterStore } from './dead-letter.store.js';
import { EventMonitorController } from './event-monitor.controller.js';

@Module({
  controllers: [EventMonitorController],
  providers: [DeadLetterStore],
})
export class EventMonitorModule {}
