import 'reflect-metadata';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { EVENT_ENVELOPE, OnEvent, type EventEnvelope } from '../../../../lib/index.js';
import { OrderPlaced, PriorityOrder, type GeneratedPayload, type GeneratedSelector } from './events.js';

/** The token under which each generated application's World is provided to its @OnEvent providers. */
export const WORLD = Symbol('PROPERTY_WORLD');

/** What the providers call: the World records the run and plays the generated behaviour. */
export interface HandlerHost {
  invoke(label: string, payload: GeneratedPayload, envelope: EventEnvelope, scoped?: ScopedListener): unknown;
  nextInstanceId(): number;
}

/** Filters read the payload: each generated event lists the handlers that say no to it. */
const unless = (label: string) => (payload: GeneratedPayload) => !payload.reject.includes(label);

/** A static provider: its options come from the module's named policies (generated per application). */
@Injectable()
export class StaticListener {
  constructor(@Inject(WORLD) private readonly world: HandlerHost) {}

  @OnEvent(OrderPlaced, { policy: 'pA', filter: unless('StaticListener.onPlaced') })
  onPlaced(payload: GeneratedPayload, envelope: EventEnvelope) {
    return this.world.invoke('StaticListener.onPlaced', payload, envelope);
  }

  @OnEvent('order.*', { policy: 'pB', filter: unless('StaticListener.onOrderAny') })
  onOrderAny(payload: GeneratedPayload, envelope: EventEnvelope) {
    return this.world.invoke('StaticListener.onOrderAny', payload, envelope);
  }

  @OnEvent(['audit.log', 'order.updated'], { policy: 'pC' })
  onAudit(payload: GeneratedPayload, envelope: EventEnvelope) {
    return this.world.invoke('StaticListener.onAudit', payload, envelope);
  }
}

/** A request-scoped provider: one instance per event (both methods share it), retries reuse it. */
@Injectable({ scope: Scope.REQUEST })
export class ScopedListener {
  readonly id: number;
  constructor(
    @Inject(WORLD) private readonly world: HandlerHost,
    @Inject(EVENT_ENVELOPE) readonly envelope: EventEnvelope,
  ) {
    this.id = world.nextInstanceId();
  }

  @OnEvent('order.**', { policy: 'pD', filter: unless('ScopedListener.onDeep') })
  onDeep(payload: GeneratedPayload, envelope: EventEnvelope) {
    return this.world.invoke('ScopedListener.onDeep', payload, envelope, this);
  }

  @OnEvent(PriorityOrder, { policy: 'pD' })
  onPriority(payload: GeneratedPayload, envelope: EventEnvelope) {
    return this.world.invoke('ScopedListener.onPriority', payload, envelope, this);
  }
}

export type PolicyName = 'pA' | 'pB' | 'pC' | 'pD';

/** The providers' handlers as the model sees them. */
export const PROVIDER_HANDLERS: readonly {
  label: string;
  selectors: readonly GeneratedSelector[];
  policy: PolicyName;
  filtered: boolean;
  scoped: boolean;
}[] = [
  { label: 'StaticListener.onPlaced', selectors: [OrderPlaced], policy: 'pA', filtered: true, scoped: false },
  { label: 'StaticListener.onOrderAny', selectors: ['order.*'], policy: 'pB', filtered: true, scoped: false },
  { label: 'StaticListener.onAudit', selectors: ['audit.log', 'order.updated'], policy: 'pC', filtered: false, scoped: false },
  { label: 'ScopedListener.onDeep', selectors: ['order.**'], policy: 'pD', filtered: true, scoped: true },
  { label: 'ScopedListener.onPriority', selectors: [PriorityOrder], policy: 'pD', filtered: false, scoped: true },
];
