import type { NodeConnectionOptions } from '@nats-io/transport-node';
import type { StreamConfig } from '@nats-io/jetstream';
import { OptionChecker, redeliveryDelay, type RedeliveryBackoff } from '../transport/transport-options.js';
import { NatsTransportConfigError } from './errors.js';

export { redeliveryDelay };

export type { RedeliveryBackoff };

export interface NatsJetStreamTransportOptions {
  /** NATS server URL(s), e.g. 'nats://127.0.0.1:4222'. */
  servers: string | string[];
  /** JetStream stream holding the events (created when missing). Letters, digits, '-' and '_'. */
  stream: string;
  /**
   * The consumer group: one durable consumer per group, so each group (service) gets every event and
   * instances of one group share the work. Use the service's name.
   */
  group: string;
  /** Subjects are `<subjectPrefix>.<event name>`. Default: the stream name. */
  subjectPrefix?: string;
  /** Stream for dead letters (created when missing). Default: `<stream>_DEAD_LETTERS`. */
  deadLetterStream?: string;
  /** Dead letters are published to `<deadLetterSubjectPrefix>.<group>`. Default: `<subjectPrefix>_dead_letters`. */
  deadLetterSubjectPrefix?: string;
  /**
   * How long the server waits for an acknowledgement before redelivering to another instance. While a
   * delivery is being handled the transport tells the server it is still working, so this bounds how
   * long a dead instance holds a message, not how long a handler may run. Default 30000.
   */
  ackWaitMs?: number;
  /**
   * Failed deliveries of one message before it is dead-lettered (the bus's own retries run inside each).
   * Only failures count: a delivery given back at a graceful close, or lost with a crashed instance, does
   * not (see maxLostDeliveries). Counted in the delivery-state bucket. Default 5.
   */
  maxDeliveries?: number;
  /**
   * Deliveries of one message that ended with neither an acknowledgement, a failure nor a release (the
   * instance handling it crashed, or hung past the ack wait) before it is dead-lettered with reason
   * 'max-deliveries': a message whose handling kills the process must not loop forever. Default 5.
   */
  maxLostDeliveries?: number;
  /**
   * JetStream key-value bucket holding, per group and event being retried, its failure and release counts
   * and the handlers already done with it (so another instance does not run them again). Written only
   * when a delivery fails or is released, read only on redeliveries. Default `<stream>_delivery_state`.
   */
  deliveryStateBucket?: string;
  /** How long a delivery record is kept after its last write. Default 24 hours. */
  deliveryStateTtlMs?: number;
  /** Delays between redeliveries after a failed handling. Default 1s, doubling, capped at 60s. */
  backoff?: RedeliveryBackoff;
  /** Largest serialized payload accepted by `publish` and by the consumer. Default 1 MiB (and never above the server's max_payload). */
  maxPayloadBytes?: number;
  /**
   * Shared secret for HMAC-SHA256 message signing. When set, every published message is signed, and
   * unsigned or wrongly signed messages are dead-lettered instead of handled. Every service must use the same key.
   */
  signingKey?: string | Uint8Array;
  /**
   * With a signingKey: how long before the server stored it a copy may have been signed (each copy is
   * signed when sent). Older ones are dead-lettered as 'expired' (a replay). `signatureMaxAgeMs + 2 *
   * clockSkewMs` must fit in the stream's duplicate_window. Default 60000.
   */
  signatureMaxAgeMs?: number;
  /** With a signingKey: how far publishers' clocks may be off the server's. Default 30000. */
  clockSkewMs?: number;
  /**
   * Messages this instance handles at once (each handler's own `concurrency` still applies). Pulls ask
   * for up to this many; each pull costs a subscription round trip, so small values cost throughput.
   * Default 256.
   */
  concurrency?: number;
  /** Unacknowledged messages the group may hold across all its instances (consumer max_ack_pending). Default 1000. */
  maxAckPending?: number;
  /** Publishes waiting for the server's acknowledgement at once; more are queued. Default 512. */
  maxPendingPublishes?: number;
  /**
   * Publishes accepted and not yet acknowledged (sent, queued, or held while the server is away): beyond
   * this, `publish` throws BackpressureError instead of buffering without bound. Default 10000.
   */
  maxBufferedPublishes?: number;
  /**
   * How long writing one dead letter may take before the message is given back for a later try (the
   * dead-letter stream deleted, full, or not writable). Default 10000.
   */
  deadLetterTimeoutMs?: number;
  /** Where a group created for the first time starts: every event kept in the stream, or only new ones. Default 'all'. */
  deliverPolicy?: 'all' | 'new';
  /** Extra stream settings used when the transport creates the stream (e.g. max_age, storage, num_replicas). */
  streamConfig?: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  /**
   * Extra connection settings (user, pass, token, tls, name, ...). Reconnection is unlimited unless set
   * here. A dead connection is detected after pingInterval x (maxPingOut + 1) (default 10s x 3), well
   * inside the stream's duplicate window, within which re-sends are bounded.
   */
  connectionOptions?: Partial<Omit<NodeConnectionOptions, 'servers'>>;
  /**
   * How long one pull request waits on the server for messages before the next one (min 1000). Lower
   * means more idle requests; it does not delay delivery. Default 5000.
   */
  pullExpiresMs?: number;
  /** How long `app.close()` lets in-flight messages finish before releasing them to the server. Default 8000. */
  handlingCloseTimeoutMs?: number;
  /** How long `app.close()` then waits for the server to acknowledge what is still being published. Default 8000. */
  publishFlushTimeoutMs?: number;
  /** @deprecated Sets both handlingCloseTimeoutMs and publishFlushTimeoutMs (each still wins when set). */
  closeTimeoutMs?: number;
}

/** The options with defaults applied and checked. */
export interface ResolvedNatsOptions {
  servers: string[];
  stream: string;
  group: string;
  subjectPrefix: string;
  deadLetterStream: string;
  deadLetterSubjectPrefix: string;
  ackWaitMs: number;
  maxDeliveries: number;
  maxLostDeliveries: number;
  deliveryStateBucket: string;
  deliveryStateTtlMs: number;
  backoff: Required<RedeliveryBackoff>;
  maxPayloadBytes: number;
  signingKey: Uint8Array | undefined;
  signatureMaxAgeMs: number;
  clockSkewMs: number;
  concurrency: number;
  maxAckPending: number;
  maxPendingPublishes: number;
  maxBufferedPublishes: number;
  deadLetterTimeoutMs: number;
  deliverPolicy: 'all' | 'new';
  streamConfig: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
  connectionOptions: Partial<Omit<NodeConnectionOptions, 'servers'>>;
  handlingCloseTimeoutMs: number;
  publishFlushTimeoutMs: number;
  pullExpiresMs: number;
}

/** Stream and consumer names: what JetStream accepts in both (no '.', '*', '>', whitespace or path separators). */
const NAME = /^[A-Za-z0-9_-]+$/;
/** A subject prefix: one or more tokens, no wildcards or whitespace. */
const SUBJECT_PREFIX = /^[A-Za-z0-9_\-$]+(\.[A-Za-z0-9_\-$]+)*$/;
const check = new OptionChecker('NatsJetStreamTransport', NatsTransportConfigError);

export function resolveNatsOptions(options: NatsJetStreamTransportOptions): ResolvedNatsOptions {
  if (options === null || typeof options !== 'object') {
    throw new NatsTransportConfigError('new NatsJetStreamTransport({ servers, stream, group }) needs an options object.');
  }
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  if (servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new NatsTransportConfigError("NatsJetStreamTransport: `servers` must be a URL or a list of URLs, e.g. 'nats://127.0.0.1:4222'.");
  }
  checkName('stream', options.stream);
  checkName('group', options.group);
  const subjectPrefix = options.subjectPrefix ?? options.stream;
  checkSubjectPrefix('subjectPrefix', subjectPrefix);
  const deadLetterStream = options.deadLetterStream ?? `${options.stream}_DEAD_LETTERS`;
  checkName('deadLetterStream', deadLetterStream);
  if (deadLetterStream === options.stream) {
    throw new NatsTransportConfigError('NatsJetStreamTransport: `deadLetterStream` must differ from `stream`.');
  }
  const deadLetterSubjectPrefix = options.deadLetterSubjectPrefix ?? `${subjectPrefix}_dead_letters`;
  checkSubjectPrefix('deadLetterSubjectPrefix', deadLetterSubjectPrefix);
  if (deadLetterSubjectPrefix === subjectPrefix || deadLetterSubjectPrefix.startsWith(`${subjectPrefix}.`)) {
    throw new NatsTransportConfigError(
      `NatsJetStreamTransport: dead letters ('${deadLetterSubjectPrefix}.>') would land in the event stream ('${subjectPrefix}.>'). ` +
        'Choose a deadLetterSubjectPrefix outside subjectPrefix.',
    );
  }
  const backoff = options.backoff ?? {};
  const deliveryStateBucket = options.deliveryStateBucket ?? `${options.stream}_delivery_state`;
  checkName('deliveryStateBucket', deliveryStateBucket);
  const closeTimeoutMs = check.nonNegative('closeTimeoutMs', options.closeTimeoutMs, 8000);
  const resolved: ResolvedNatsOptions = {
    servers,
    stream: options.stream,
    group: options.group,
    subjectPrefix,
    deadLetterStream,
    deadLetterSubjectPrefix,
    ackWaitMs: check.positive('ackWaitMs', options.ackWaitMs, 30_000),
    maxDeliveries: check.count('maxDeliveries', options.maxDeliveries, 5),
    maxLostDeliveries: check.count('maxLostDeliveries', options.maxLostDeliveries, 5),
    deliveryStateBucket,
    deliveryStateTtlMs: check.positive('deliveryStateTtlMs', options.deliveryStateTtlMs, 24 * 60 * 60 * 1000),
    backoff: {
      initialDelayMs: check.nonNegative('backoff.initialDelayMs', backoff.initialDelayMs, 1000),
      factor: check.positive('backoff.factor', backoff.factor, 2),
      maxDelayMs: check.nonNegative('backoff.maxDelayMs', backoff.maxDelayMs, 60_000),
    },
    maxPayloadBytes: check.count('maxPayloadBytes', options.maxPayloadBytes, 1024 * 1024),
    signingKey: check.signingKey(options.signingKey),
    signatureMaxAgeMs: check.positive('signatureMaxAgeMs', options.signatureMaxAgeMs, 60_000),
    clockSkewMs: check.nonNegative('clockSkewMs', options.clockSkewMs, 30_000),
    concurrency: check.count('concurrency', options.concurrency, 256),
    maxAckPending: check.count('maxAckPending', options.maxAckPending, 1000),
    maxPendingPublishes: check.count('maxPendingPublishes', options.maxPendingPublishes, 512),
    maxBufferedPublishes: check.count('maxBufferedPublishes', options.maxBufferedPublishes, 10_000),
    deadLetterTimeoutMs: check.positive('deadLetterTimeoutMs', options.deadLetterTimeoutMs, 10_000),
    deliverPolicy: options.deliverPolicy ?? 'all',
    streamConfig: options.streamConfig ?? {},
    connectionOptions: options.connectionOptions ?? {},
    handlingCloseTimeoutMs: check.nonNegative('handlingCloseTimeoutMs', options.handlingCloseTimeoutMs, closeTimeoutMs),
    publishFlushTimeoutMs: check.nonNegative('publishFlushTimeoutMs', options.publishFlushTimeoutMs, closeTimeoutMs),
    pullExpiresMs: check.positive('pullExpiresMs', options.pullExpiresMs, 5000),
  };
  if (resolved.pullExpiresMs < 1000) {
    throw new NatsTransportConfigError(`NatsJetStreamTransport: pullExpiresMs must be at least 1000 (got ${resolved.pullExpiresMs}).`);
  }
  if (resolved.ackWaitMs < 1000) {
    throw new NatsTransportConfigError(`NatsJetStreamTransport: ackWaitMs must be at least 1000 (got ${resolved.ackWaitMs}).`);
  }
  if (resolved.maxBufferedPublishes < resolved.maxPendingPublishes) {
    throw new NatsTransportConfigError(
      `NatsJetStreamTransport: maxBufferedPublishes (${resolved.maxBufferedPublishes}) must be at least maxPendingPublishes (${resolved.maxPendingPublishes}).`,
    );
  }
  if (resolved.deliverPolicy !== 'all' && resolved.deliverPolicy !== 'new') {
    throw new NatsTransportConfigError(`NatsJetStreamTransport: deliverPolicy must be 'all' or 'new' (got ${String(resolved.deliverPolicy)}).`);
  }
  return resolved;
}

function checkName(option: string, value: unknown): void {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new NatsTransportConfigError(
      `NatsJetStreamTransport: \`${option}\` must be a non-empty name of letters, digits, '-' and '_' (got ${JSON.stringify(value)}).`,
    );
  }
}

function checkSubjectPrefix(option: string, value: unknown): void {
  if (typeof value !== 'string' || !SUBJECT_PREFIX.test(value)) {
    throw new NatsTransportConfigError(
      `NatsJetStreamTransport: \`${option}\` must be a NATS subject without wildcards or spaces, e.g. 'events' or 'acme.events' ` +
        `(got ${JSON.stringify(value)}).`,
    );
  }
}
