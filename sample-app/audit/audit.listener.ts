import { Injectable } from '@nestjs/common';
import { OnEvent, type EventEnvelope } from '../../lib/index.js';
import { AuditTrail } from './audit.trail.js';

@Injectable()
export class AuditListener {
  constructor(private readonly trail: AuditTrail) {}

  /**
   * A pattern: '**' matches one or more segments, so order.placed, order.reserved,
   * order.reservation-failed and any order.x.y added later. The seed's `order_shipped` is outside the
   * dotted namespace, so it is listed beside it (either entry triggers the handler, once per event).
   */
  @OnEvent(['order.**', 'order_shipped'])
  record(_payload: unknown, envelope: EventEnvelope): void {
    this.trail.record(envelope);
  }
}
