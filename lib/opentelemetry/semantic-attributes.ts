/**
 * Attribute names and values, from the OpenTelemetry messaging semantic conventions v1.27.0 (the first
 * with `messaging.consumer.group.name` and the `send` / `process` operation types), plus this library's
 * own under `nestjs_event_bus.` where the conventions have no generic attribute. Written out rather than
 * taken from @opentelemetry/semantic-conventions: the messaging ones are only in its unstable entry.
 */
export const SEMCONV_VERSION = '1.27.0';

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_MESSAGE_CONVERSATION_ID = 'messaging.message.conversation_id';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_CODE_FUNCTION = 'code.function';
export const ATTR_CODE_NAMESPACE = 'code.namespace';

/** `'Class.method'` of the handler (or the `on()` listener's name). */
export const ATTR_HANDLER = 'nestjs_event_bus.handler';
/** 1 for the first try of a handler, 2 for its first retry, ... (per handler, in this process). */
export const ATTR_ATTEMPT = 'nestjs_event_bus.attempt';
/** How often the broker delivered the message, this delivery included (transports that say). */
export const ATTR_DELIVERY_COUNT = 'nestjs_event_bus.delivery_count';
/** The id of the event whose handler published this one. */
export const ATTR_CAUSATION_ID = 'nestjs_event_bus.causation_id';
/** How a handler attempt ended: succeeded, filtered, failed (retried), redelivered, dead-lettered. */
export const ATTR_OUTCOME = 'nestjs_event_bus.outcome';
/** On a delivery span: local handlers that succeeded, and that gave up. */
export const ATTR_HANDLED = 'nestjs_event_bus.handlers.succeeded';
export const ATTR_FAILED = 'nestjs_event_bus.handlers.failed';

/** `messaging.system` of an event that stays in the process (no transport): the bus is the system. */
export const IN_PROCESS_SYSTEM = 'nestjs_event_bus';

/** The span event added to a handler's last attempt when the event is dead-lettered for it. */
export const DEAD_LETTER_EVENT = 'nestjs_event_bus.dead_lettered';

/** Instrumentation scope of the tracer and the meter. */
export const INSTRUMENTATION_SCOPE = 'nestjs-event-bus';
