import type { EventEnvelope } from './event-envelope.js';
import type { PublishOptions } from './interfaces/publish-options.interface.js';

/**
 * Maps event names to payload types: `interface AppEvents { new_order: NewOrder }`.
 * The untyped default accepts any name and payload.
 */
export type UntypedEvents = Record<string | symbol, any>;

/**
 * An event map as used for typing: a map without keys (`object`, which is what `app.get(EventPublisher)`
 * infers) means untyped.
 */
export type EffectiveEvents<TEvents> = [keyof TEvents] extends [never] ? UntypedEvents : TEvents;

/** The names of an event map. */
export type EventKey<TEvents> = Extract<keyof TEvents, string | symbol>;

/** `publish(name, payload?, options?)`: the payload may be left out only where the map allows undefined. */
export type PublishArgs<TEvents, K extends keyof TEvents> = undefined extends TEvents[K]
  ? [payload?: TEvents[K], options?: PublishOptions]
  : [payload: TEvents[K], options?: PublishOptions];

/** What a typed handler of event K must accept. */
export type EventHandlerMethod<TPayload> = (payload: TPayload, envelope: EventEnvelope<TPayload>) => unknown;
