/** What a transport says about itself for generated documentation (AsyncAPI servers and channels). */
export interface TransportDescription {
  /** The AsyncAPI protocol name, e.g. 'nats', 'redis'. */
  protocol: string;
  /** Where the broker is, e.g. 'nats://127.0.0.1:4222'. */
  servers: string[];
  /** The consumer group this service consumes as. */
  group?: string;
  /** The channel (subject, stream key) an event name or handler pattern travels on. */
  address(eventNameOrPattern: string): string;
}

/** Implemented by a transport that can describe itself (checked at run time, so optional). */
export interface DescribedTransport {
  describe(): TransportDescription;
}

export function isDescribedTransport(transport: unknown): transport is DescribedTransport {
  return typeof transport === 'object' && transport !== null && typeof (transport as DescribedTransport).describe === 'function';
}
