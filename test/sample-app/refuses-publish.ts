import { EventBusClosedError, type EventBus } from '../../lib/index.js';

/** Whether the bus has begun shutting down: it then refuses publishes from outside handlers. */
export function refusesPublish(bus: EventBus): boolean {
  try {
    bus.publish('probe.nobody-listens');
    return false;
  } catch (error) {
    if (error instanceof EventBusClosedError) return true;
    throw error;
  }
}
