// The `nestjs-event-bus/nats` entry: the only module that loads @nats-io/* (optional peer dependencies).
export {
  NatsJetStreamTransport,
  NatsBackpressureError,
  type NatsConnectionState,
  type NatsTransportStatus,
} from './nats-jetstream.transport.js';
export type { NatsJetStreamTransportOptions, RedeliveryBackoff } from './nats-jetstream-transport.options.js';
export { NatsHealthIndicator, NatsHealthCheckError, type NatsHealthResult } from './nats-health.indicator.js';
export { NatsTransportConfigError, PoisonMessageError } from './errors.js';
export { DEAD_LETTER_HEADER, type DeadLetterReason } from './dead-letter-message.js';
export { NatsDeadLetterStore, REDRIVE_OF_NATS_HEADER } from './nats-dead-letter.store.js';
export { HEADER as NATS_EVENT_HEADER } from './envelope-codec.js';
export { PublishAbortedError, PublishRefusedError } from './reliable-publisher.js';
