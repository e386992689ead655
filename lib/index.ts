export { EventBusModule } from './event-bus.module.js';
export { MODULE_OPTIONS_TOKEN as EVENT_BUS_MODULE_OPTIONS, type EventBusOptionsFactory } from './event-bus.module-definition.js';
export { EventBus, type EventListener, type WaitForOptions } from './event-bus.js';
export { EventPublisher } from './event-publisher.js';
export { OnEvent, createOnEvent, OnEventClass } from './on-event.decorator.js';
export { Event, type EventOptions } from './event.decorator.js';
export { EVENT_ENVELOPE } from './constants.js';
export type { EventEnvelope, EventName, EventHeaders } from './event-envelope.js';
export type { EventClass, EventSelector } from './event-name.js';
export type { EventKey, PublishArgs, UntypedEvents, EffectiveEvents, EventHandlerMethod } from './event-map.js';
export type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';
export type { HandlerOptions, HandlerPolicy } from './interfaces/handler-options.interface.js';
export type { EventEmitterHandlerOptions } from './migration/event-emitter-handler-options.js';
export type { RetryPolicy, BackoffPolicy } from './interfaces/retry-policy.interface.js';
export type { DeliveryReport } from './interfaces/delivery-report.interface.js';
export type { HandlerFailure } from './interfaces/handler-failure.interface.js';
export type { PublishOptions } from './interfaces/publish-options.interface.js';
export type { RegisteredHandler } from './interfaces/registered-handler.interface.js';
export type { HandlerMiddleware, HandlerInvocation } from './handler-middleware.js';
export type { EventTransport, TransportHost, TransportDeliveryOptions } from './transport/event-transport.interface.js';
export { DeadLetters } from './dead-letters/dead-letters.js';
export {
  REDRIVE_OF_HEADER,
  type DeadLetterRecord,
  type DeadLetterFilter,
  type RedriveResult,
  type RedriveOutcome,
} from './dead-letters/dead-letter.interface.js';
export type { DeadLetterStore, DeadLetterStoreProvider, Redeliver } from './dead-letters/dead-letter-store.interface.js';
export { InvalidDeadLetterQueryError } from './dead-letters/dead-letters-errors.js';
export {
  EventBusError,
  InvalidEventError,
  InvalidHandlerError,
  EventBusClosedError,
  BufferOverflowError,
  BackpressureError,
  DrainTimeoutError,
  WaitForTimeoutError,
  EventBusNotReadyError,
  InvalidModuleOptionsError,
  EventBusModuleNotConfiguredError,
  DuplicateEventBusModuleError,
  DeliveryAbandonedError,
} from './errors.js';
