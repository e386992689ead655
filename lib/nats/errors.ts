import { EventBusError } from '../errors.js';

/** A `NatsJetStreamTransport` option that cannot work, or a stream/consumer on the server that does not fit it. */
export class NatsTransportConfigError extends EventBusError {}

export { PoisonMessageError } from '../transport/poison-message.error.js';
