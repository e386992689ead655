import type { LoggerService } from '@nestjs/common';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { restoreEnvelope, type Envelope } from '../event-envelope.js';
import type { EventIdGenerator } from '../event-id.js';
import type { BusInstrumentation } from '../instrumentation/bus-instrumentation.js';
import type { EventClass } from '../event-name.js';
import type { HandlerRegistry } from '../registration/handler-registry.js';
import type { TransportHost } from './event-transport.interface.js';

/** What the bus offers its transport: its subscriptions, delivery to local handlers, envelope revival. */
export function createTransportHost(
  registry: HandlerRegistry,
  dispatcher: Dispatcher,
  ids: EventIdGenerator,
  logger: LoggerService,
  instrumentation: BusInstrumentation | undefined,
): TransportHost {
  return {
    logger,
    subscriptions: () => registry.subscribedNames(),
    deliver: (envelope, options) => {
      const observed = instrumentation?.delivery(envelope, { deliveryCount: options?.deliveryCount });
      const done = dispatcher.enqueueAndTrack(envelope as Envelope, options?.skipHandlers, options?.lastDelivery === false, true);
      if (observed === undefined) return done;
      // A delivery abandoned at shutdown rejects: its span still ends.
      return done.then(
        (report) => {
          observed.end(report);
          return report;
        },
        (error: unknown) => {
          observed.end(undefined, error);
          throw error;
        },
      );
    },
    settledHandlers: (envelope, report) => {
      const labels = registry.resolve(envelope.name, envelope.payload).map((h) => h.label);
      if (report.failed.length === 0) return labels;
      const failed = new Set(report.failed.map((f) => f.handler));
      return labels.filter((label) => !failed.has(label));
    },
    restoreEnvelope: (fields) => {
      const eventClass = registry.classForName(fields.name);
      const payload = eventClass !== undefined && isPlainObject(fields.payload) ? revive(eventClass, fields.payload) : fields.payload;
      return restoreEnvelope(ids, payload === fields.payload ? fields : { ...fields, payload });
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Gives a payload received over the wire its class back, without running the constructor. */
function revive(eventClass: EventClass, fields: Record<string, unknown>): object {
  const event = Object.create(eventClass.prototype as object) as object;
  // Own data properties, as the constructor made them: a field named like a getter of the class shadows
  // it (assignment would throw on a getter-only accessor, or run a setter).
  for (const key of Object.keys(fields)) {
    Object.defineProperty(event, key, { value: fields[key], writable: true, enumerable: true, configurable: true });
  }
  return event;
}
