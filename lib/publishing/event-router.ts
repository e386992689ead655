import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Envelope, EventEnvelope, EventName } from '../event-envelope.js';
import type { BusInstrumentation, PublishObservation } from '../instrumentation/bus-instrumentation.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { PublishOptions } from '../interfaces/publish-options.interface.js';
import { describeEventName } from '../event-name.js';
import type { OutboundSends } from '../transport/outbound-sends.js';
import { assertSerializablePayload } from '../transport/payload-rules.js';
import type { TravelPolicy } from '../transport/travel-policy.js';
import type { EnvelopeFactory } from './envelope-factory.js';
import type { PublishAdmission } from './publish-admission.js';

/**
 * Where a published event goes: accepted (envelope built, admission checked), then to the dispatch
 * queue, or to the transport when it travels. Inside a consumed event's chain, what is sent or
 * handled locally holds that event's acknowledgement (see Dispatcher.chainOf).
 */
export class EventRouter {
  constructor(
    private readonly envelopes: EnvelopeFactory,
    private readonly admission: PublishAdmission,
    private readonly dispatcher: Dispatcher,
    private readonly sends: OutboundSends | undefined,
    private readonly travel: TravelPolicy,
    /** Starts dispatching early when handlers are registered (a publishAndWait during start-up). */
    private readonly startIfRegistered: () => void,
    /** Telemetry hooks; undefined (the usual case without @opentelemetry/api) costs one check per publish. */
    private readonly instrumentation: BusInstrumentation | undefined = undefined,
    /** Option `serializablePayloads`: events handled in-process follow the transports' payload rules too. */
    private readonly checksLocalPayloads = false,
  ) {}

  publish(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): EventEnvelope {
    let envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
    const travels = this.sends !== undefined && this.travel.travels(envelope);
    if (this.checksLocalPayloads && !travels) assertSerializablePayload(envelope.payload, describeEventName(envelope.name));
    const observed = this.instrumentation?.publish(envelope, travels);
    // The envelope travels with the trace context the instrumentation added to its headers.
    if (observed !== undefined) envelope = envelope.withHeaders(observed.headers);
    if (travels) this.send(envelope, observed);
    else {
      if (this.sends === undefined) this.dispatcher.enqueue(envelope);
      else this.enqueueLocal(envelope);
      observed?.end();
    }
    return envelope;
  }

  publishAndWait(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Promise<DeliveryReport> {
    let envelope: Envelope;
    let sending: Promise<void> | undefined;
    let observed: PublishObservation | undefined;
    try {
      envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
      const travels = this.sends !== undefined && this.travel.travels(envelope);
      if (this.checksLocalPayloads && !travels) assertSerializablePayload(envelope.payload, describeEventName(envelope.name));
      observed = this.instrumentation?.publish(envelope, travels);
      if (observed !== undefined) envelope = envelope.withHeaders(observed.headers);
      // prepare() throws synchronously for a payload the transport refuses.
      if (travels) sending = this.send(envelope, observed);
    } catch (error) {
      return Promise.reject(error);
    }
    if (sending !== undefined) return sending.then(() => ({ envelope, handled: 0, failed: [] }));
    // Handlers are known once registration ran: waiting must not hang start-up until bootstrap.
    this.startIfRegistered();
    const chain = this.dispatcher.chainOf(envelope.causationId);
    let handled: Promise<DeliveryReport>;
    if (chain === undefined) handled = this.dispatcher.enqueueAndTrack(envelope);
    else {
      handled = this.dispatcher.enqueueInChain(envelope, chain);
      chain.hold(handled);
    }
    observed?.end();
    return handled;
  }

  private accept(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Envelope {
    const parent = this.dispatcher.currentEnvelope();
    const envelope = this.envelopes.create(nameOrEvent, payloadOrOptions, maybeOptions, parent);
    this.admission.admit(envelope.name, parent);
    return envelope;
  }

  /** Hands an event to the transport; a follow-up of a consumed event holds that event's acknowledgement. */
  private send(envelope: Envelope, observed: PublishObservation | undefined): Promise<void> {
    const sending = this.sends!.send(envelope, observed);
    this.dispatcher.chainOf(envelope.causationId)?.hold(sending);
    return sending;
  }

  /** A local event (not travelling) with a transport: inside a consumed event's chain it joins that chain. */
  private enqueueLocal(envelope: Envelope): void {
    const chain = this.dispatcher.chainOf(envelope.causationId);
    if (chain === undefined) this.dispatcher.enqueue(envelope);
    else chain.hold(this.dispatcher.enqueueInChain(envelope, chain));
  }
}
