// The `nestjs-event-bus/asyncapi` entry: loads the optional class-validator-jsonschema (if installed).
export { generateAsyncApi, type AsyncApiOptions, type AsyncApiDocument } from './generate-async-api.js';
export { collectTopology, type EventTopology, type TopologySubscription } from './event-topology.js';
export type { TransportDescription, DescribedTransport } from '../transport/transport-description.interface.js';
