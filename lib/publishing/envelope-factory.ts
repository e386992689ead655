import { InvalidEventError } from '../errors.js';
import { Envelope, type EventEnvelope, type EventName } from '../event-envelope.js';
import type { EventIdGenerator } from '../event-id.js';
import { assertPublishableName } from '../event-name.js';
import type { PublishOptions } from '../interfaces/publish-options.interface.js';
import type { HandlerRegistry } from '../registration/handler-registry.js';

/**
 * Turns what `publish` was given (a name and payload, or an event class instance, plus options) into
 * an envelope: checks the name and options, names class events, and links the event to the one being
 * handled (causation, correlation).
 */
export class EnvelopeFactory {
  constructor(
    private readonly ids: EventIdGenerator,
    private readonly registry: HandlerRegistry,
  ) {}

  create(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined, parent: EventEnvelope | undefined): Envelope {
    let name: EventName;
    let payload: unknown;
    let options: PublishOptions | undefined;
    if (typeof nameOrEvent === 'string' || typeof nameOrEvent === 'symbol') {
      assertPublishableName(nameOrEvent);
      name = nameOrEvent;
      payload = payloadOrOptions;
      options = maybeOptions;
    } else if (isClassInstance(nameOrEvent)) {
      name = this.registry.nameOfClass(nameOrEvent.constructor);
      assertPublishableName(name);
      payload = nameOrEvent;
      options = payloadOrOptions as PublishOptions | undefined;
    } else {
      if (typeof nameOrEvent !== 'object' || nameOrEvent === null) assertPublishableName(nameOrEvent);
      throw new InvalidEventError(
        'publish() got a plain object where an event name or an event class instance was expected. ' +
          'Use publish("order.placed", payload), or publish(new OrderPlaced(...)) with a class.',
      );
    }
    if (options !== undefined) assertPublishOptions(options);
    const sequence = this.ids.nextSequence(this.ids.now());
    return new Envelope(
      this.ids,
      this.ids.time,
      sequence,
      name,
      payload,
      options?.correlationId ?? parent?.correlationId,
      parent?.id,
      options?.headers ?? Envelope.emptyHeaders(),
      1,
      options?.id,
    );
  }
}

function assertPublishOptions(options: PublishOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidEventError('publish() options must be an object like { id?, correlationId?, headers? }.');
  }
  for (const key of ['id', 'correlationId'] as const) {
    const value = options[key];
    if (value === undefined) continue;
    // Brokers trim header values: an id with outer white space would change on the way (and fail signatures).
    if (typeof value !== 'string' || value.length === 0 || value.trim() !== value) {
      throw new InvalidEventError(`publish() option ${key} must be a non-empty string without leading or trailing white space.`);
    }
  }
  if (options.headers !== undefined) {
    if (typeof options.headers !== 'object' || options.headers === null) {
      throw new InvalidEventError('publish() option headers must be an object of string values.');
    }
    for (const [key, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') throw new InvalidEventError(`publish() header "${key}" must be a string, got ${typeof value}.`);
    }
  }
}

function isClassInstance(value: unknown): value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto !== null && proto !== Object.prototype && typeof proto.constructor === 'function';
}
