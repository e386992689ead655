import { Module } from '@nestjs/common';
import { AuditController } from './audit.controller.js';
import { AuditListener } from './audit.listener.js';
import { AuditTrail } from './audit.trail.js';

@Module({
  controllers: [AuditController],
  providers: [AuditTrail, AuditListener],
})
export class AuditModule {}
