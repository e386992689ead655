import { Injectable } from '@nestjs/common';
import type { EventEnvelope } from './event-envelope.js';
import { EventBus } from './event-bus.js';
import type { EffectiveEvents, EventKey, PublishArgs, UntypedEvents } from './event-map.js';
import type { DeliveryReport } from './interfaces/delivery-report.interface.js';
import type { PublishOptions } from './interfaces/publish-options.interface.js';

/**
 * What application services inject to publish. Type it with an event map to make unknown names and
 * wrong payloads compile errors: `constructor(private readonly events: EventPublisher<AppEvents>) {}`.
 */
@Injectable()
export class EventPublisher<TEvents extends object = UntypedEvents> {
  constructor(private readonly bus: EventBus) {}

  /** Returns the envelope at once; handlers run later and can never make this throw. */
  publish<K extends EventKey<EffectiveEvents<TEvents>>>(
    name: K,
    ...args: PublishArgs<EffectiveEvents<TEvents>, K>
  ): EventEnvelope<EffectiveEvents<TEvents>[K]>;
  /** A class event: named by `@Event('...')` on its class, else the class name. */
  publish<E extends object>(event: E, options?: PublishOptions): EventEnvelope<E>;
  publish(nameOrEvent: any, payloadOrOptions?: any, options?: PublishOptions): EventEnvelope<any> {
    return this.bus.publish(nameOrEvent, payloadOrOptions, options);
  }

  /** Resolves once every matching handler finished (retries included); never rejects for a handler's failure. */
  publishAndWait<K extends EventKey<EffectiveEvents<TEvents>>>(
    name: K,
    ...args: PublishArgs<EffectiveEvents<TEvents>, K>
  ): Promise<DeliveryReport<EffectiveEvents<TEvents>[K]>>;
  publishAndWait<E extends object>(event: E, options?: PublishOptions): Promise<DeliveryReport<E>>;
  publishAndWait(nameOrEvent: any, payloadOrOptions?: any, options?: PublishOptions): Promise<DeliveryReport<any>> {
    return this.bus.publishAndWait(nameOrEvent, payloadOrOptions, options);
  }
}
