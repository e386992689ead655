import { Controller, Get, Query } from '@nestjs/common';
import type { AuditEntry } from './audit-entry.js';
import { AuditTrail } from './audit.trail.js';

@Controller('audit')
export class AuditController {
  constructor(private readonly trail: AuditTrail) {}

  /** Every audited event; `?correlationId=` narrows it to one order's events. */
  @Get()
  list(@Query('correlationId') correlationId?: string): AuditEntry[] {
    return this.trail.list({ correlationId });
  }
}
