import type { Dispatcher } from '../dispatch/dispatcher.js';
import type { Envelope, EventEnvelope, EventName } from '../event-envelope.js';
import type { DeliveryReport } from '../interfaces/delivery-report.interface.js';
import type { PublishOptions } from '../interfaces/publish-options.interface.js';
import type { OutboundSends } from '../transport/outbound-sends.js';
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
  ) {}

  publish(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): EventEnvelope {
    const envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
    if (this.sends === undefined) this.dispatcher.enqueue(envelope);
    else if (this.travel.travels(envelope)) this.send(envelope);
    else this.enqueueLocal(envelope);
    return envelope;
  }

  publishAndWait(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Promise<DeliveryReport> {
    let envelope: Envelope;
    let sending: Promise<void> | undefined;
    try {
      envelope = this.accept(nameOrEvent, payloadOrOptions, maybeOptions);
      // prepare() throws synchronously for a payload the transport refuses.
      if (this.sends !== undefined && this.travel.travels(envelope)) sending = this.send(envelope);
    } catch (error) {
      return Promise.reject(error);
    }
    if (sending !== undefined) return sending.then(() => ({ envelope, handled: 0, failed: [] }));
    // Handlers are known once registration ran: waiting must not hang start-up until bootstrap.
    this.startIfRegistered();
    const chain = this.dispatcher.chainOf(envelope.causationId);
    if (chain === undefined) return this.dispatcher.enqueueAndTrack(envelope);
    const handled = this.dispatcher.enqueueInChain(envelope, chain);
    chain.hold(handled);
    return handled;
  }

  private accept(nameOrEvent: EventName | object, payloadOrOptions: unknown, maybeOptions: PublishOptions | undefined): Envelope {
    const parent = this.dispatcher.currentEnvelope();
    const envelope = this.envelopes.create(nameOrEvent, payloadOrOptions, maybeOptions, parent);
    this.admission.admit(envelope.name, parent);
    return envelope;
  }

  /** Hands an event to the transport; a follow-up of a consumed event holds that event's acknowledgement. */
  private send(envelope: Envelope): Promise<void> {
    const sending = this.sends!.send(envelope);
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
