import { Injectable } from '@nestjs/common';
import { EventPublisher } from '../../lib/index.js';
import type { OrderPlaced } from '../events/order-placed.event.js';
import type { SampleEvents } from '../events/sample-events.js';
import type { OrderWriter, PlacedEvent } from './order-writer.js';

/** The default: nothing to write (OrderStore keeps the order), the event is published at once. */
@Injectable()
export class InMemoryOrderWriter implements OrderWriter {
  constructor(private readonly events: EventPublisher<SampleEvents>) {}

  async lastOrderId(): Promise<number> {
    return 0;
  }

  async place(event: OrderPlaced): Promise<PlacedEvent> {
    const { id, correlationId, occurredAt } = this.events.publish(event);
    return { id, correlationId, occurredAt };
  }
}
