import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerUpdateConfig,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import { NatsTransportConfigError } from './errors.js';

/** The stream settings the transport relies on, as found on the server. */
export interface StreamSettings {
  /** The window within which JetStream drops a second copy of a message id. */
  duplicateWindowMs: number;
}

export interface StreamSpec {
  name: string;
  subjectPrefix: string;
  /** Settings used when the stream is created (and that an existing stream must match where they matter). */
  config: Partial<Omit<StreamConfig, 'name' | 'subjects'>>;
}

export interface ConsumerSpec {
  stream: string;
  group: string;
  subjectPrefix: string;
  ackWaitMs: number;
  maxAckPending: number;
  deliverPolicy: 'all' | 'new';
}

const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;

/**
 * Creates the streams and the group's durable consumer, or checks that the existing ones fit. Nothing
 * found on the server is reused silently when a setting the transport relies on differs: what can be
 * updated is updated (and logged by the caller), the rest is refused with NatsTransportConfigError.
 */
export async function ensureStream(jsm: JetStreamManager, spec: StreamSpec): Promise<StreamSettings> {
  const subject = `${spec.subjectPrefix}.>`;
  const retention = spec.config.retention ?? RetentionPolicy.Limits;
  const discard = spec.config.discard ?? DiscardPolicy.Old;
  for (let tries = 0; ; tries++) {
    try {
      const { config } = await jsm.streams.info(spec.name);
      if (!config.subjects?.includes(subject)) {
        throw new NatsTransportConfigError(
          `JetStream stream "${spec.name}" exists but does not capture "${subject}" (its subjects: ${JSON.stringify(config.subjects ?? [])}). ` +
            `Add "${subject}" to the stream, or choose another stream name or subject prefix.`,
        );
      }
      // A work-queue or interest stream deletes messages other groups have not consumed yet; discard
      // 'new' refuses publishes once full, 'old' drops the oldest events. Either choice is the team's,
      // but it must be the one configured here, not whatever an earlier deployment left behind.
      if (config.retention !== retention || config.discard !== discard) {
        throw new NatsTransportConfigError(
          `JetStream stream "${spec.name}" has retention "${config.retention}" and discard "${config.discard}", ` +
            `but this transport expects retention "${retention}" and discard "${discard}" (streamConfig). ` +
            'These cannot be changed in place: set streamConfig to match the stream, or migrate the stream (nats stream edit / a new stream name).',
        );
      }
      return { duplicateWindowMs: config.duplicate_window > 0 ? millis(config.duplicate_window) : DEFAULT_DUPLICATE_WINDOW_MS };
    } catch (error) {
      if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    }
    try {
      const created = await jsm.streams.add({
        retention,
        discard,
        storage: StorageType.File,
        duplicate_window: nanos(DEFAULT_DUPLICATE_WINDOW_MS),
        ...spec.config,
        name: spec.name,
        subjects: [subject],
      });
      return { duplicateWindowMs: millis(created.config.duplicate_window) };
    } catch (error) {
      // Another instance created it meanwhile: read it again.
      if (tries > 0 || !(error instanceof JetStreamApiError)) throw error;
    }
  }
}

/**
 * What the group's consumer must be: explicit acknowledgement (with `all`, acknowledging a fast message
 * acknowledges a slow one still running), no server-side delivery limit (the transport counts failures
 * itself and dead-letters; a server max_deliver drops messages without a dead letter), no server backoff
 * (it overrides the ack wait the keep-alive relies on), and the transport's own filter.
 */
export async function ensureConsumer(jsm: JetStreamManager, spec: ConsumerSpec): Promise<'created' | 'unchanged' | 'updated'> {
  const { stream, group } = spec;
  const filter = `${spec.subjectPrefix}.>`;
  const wanted: ConsumerUpdateConfig = { ack_wait: nanos(spec.ackWaitMs), max_ack_pending: spec.maxAckPending, max_deliver: -1, backoff: [] };
  let existing: ConsumerConfig;
  try {
    existing = (await jsm.consumers.info(stream, group)).config;
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.ConsumerNotFound)) throw error;
    try {
      await jsm.consumers.add(stream, {
        durable_name: group,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: spec.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
        filter_subject: filter,
        ...wanted,
      });
      return 'created';
    } catch (addError) {
      // Another instance of the group created it meanwhile: check that one.
      if (!(addError instanceof JetStreamApiError)) throw addError;
      existing = (await jsm.consumers.info(stream, group)).config;
    }
  }
  const refuse = (what: string) =>
    new NatsTransportConfigError(
      `The consumer "${group}" on stream "${stream}" ${what}, which this transport cannot work with. ` +
        `Delete it (nats consumer rm ${stream} ${group}) so it is created again, or use another group name.`,
    );
  if (existing.ack_policy !== AckPolicy.Explicit) throw refuse(`has ack policy "${existing.ack_policy}" (explicit is needed)`);
  if (existing.deliver_subject !== undefined && existing.deliver_subject !== '') throw refuse('is a push consumer (a pull consumer is needed)');
  const filters = existing.filter_subjects ?? (existing.filter_subject === undefined || existing.filter_subject === '' ? [] : [existing.filter_subject]);
  if (filters.length !== 0 && (filters.length !== 1 || filters[0] !== filter)) {
    throw refuse(`filters ${JSON.stringify(filters)}, not "${filter}"`);
  }
  const maxDeliver = existing.max_deliver ?? -1;
  const backoff = existing.backoff ?? [];
  if (
    existing.ack_wait !== wanted.ack_wait ||
    existing.max_ack_pending !== wanted.max_ack_pending ||
    maxDeliver > 0 ||
    backoff.length !== 0
  ) {
    try {
      await jsm.consumers.update(stream, group, wanted);
    } catch (error) {
      throw refuse(`has max_deliver ${maxDeliver} and backoff ${JSON.stringify(backoff)}, and could not be updated (${String(error)})`);
    }
    return 'updated';
  }
  return 'unchanged';
}

export function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}
