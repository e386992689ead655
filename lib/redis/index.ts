// The `nestjs-event-bus/redis` entry: the only module that loads ioredis (an optional peer dependency).
export { RedisStreamsTransport, type RedisTransportStatus } from './redis-streams.transport.js';
export type { RedisStreamsTransportOptions, RedisTrimOptions } from './redis-streams-transport.options.js';
export type { RedeliveryBackoff } from '../transport/transport-options.js';
export { RedisHealthIndicator, RedisHealthCheckError, type RedisHealthResult } from './redis-health.indicator.js';
export { RedisTransportConfigError } from './errors.js';
export { PoisonMessageError } from '../transport/poison-message.error.js';
export { DEAD_LETTER_FIELD } from './dead-letter-entry.js';
export { ENVELOPE_FIELD } from '../transport/field-envelope-codec.js';
export type { DeadLetterReason } from '../transport/dead-letter-record.js';
