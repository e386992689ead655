import { EventBusError } from '../errors.js';

/** A `RedisStreamsTransport` option that cannot work, or a Redis server that cannot carry the events. */
export class RedisTransportConfigError extends EventBusError {}
