/** Injection token of the request-scoped `EventEnvelope` inside a request-scoped handler. */
export const EVENT_ENVELOPE = Symbol.for('nestjs-event-bus:event-envelope');

/** Reflect-metadata keys. Symbols registered globally so two copies of the library agree. */
export const ON_EVENT_METADATA = Symbol.for('nestjs-event-bus:on-event');
export const ON_EVENT_METHODS_METADATA = Symbol.for('nestjs-event-bus:on-event-methods');
export const EVENT_NAME_METADATA = Symbol.for('nestjs-event-bus:event-name');
export const EVENT_SCHEMA_METADATA = Symbol.for('nestjs-event-bus:event-schema');

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BUFFERED_BEFORE_READY = 10_000;

/** Injection token of the bus's BusInstrumentationFactory (undefined: no telemetry). */
export const BUS_INSTRUMENTATION_FACTORY = Symbol('nestjs-event-bus:instrumentation-factory');
