import type { TransportDescription } from '../transport/transport-description.interface.js';
import type { EnvelopeCodec } from './envelope-codec.js';
import type { ResolvedNatsOptions } from './nats-jetstream-transport.options.js';

/** The NATS transport for AsyncAPI: its servers, group, and the subject of each event or pattern. */
export function describeNatsTransport(options: Readonly<ResolvedNatsOptions>, codec: EnvelopeCodec): TransportDescription {
  return {
    protocol: 'nats',
    servers: [...options.servers],
    group: options.group,
    address: (nameOrPattern) => {
      if (!nameOrPattern.includes('*')) return codec.subjectFor(nameOrPattern);
      // Patterns: '*' is NATS's one-token wildcard; '**' (one or more) is '>' at the end, and past that only '>' covers it.
      const tokens = nameOrPattern.split('.');
      const at = tokens.indexOf('**');
      if (at === -1) return `${options.subjectPrefix}.${nameOrPattern}`;
      return `${options.subjectPrefix}.${[...tokens.slice(0, at), '>'].join('.')}`;
    },
  };
}
