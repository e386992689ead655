import type { Type } from '@nestjs/common';
import { ContextIdFactory, type ModuleRef } from '@nestjs/core';
import type { EventEnvelope } from './event-envelope.js';
import type { InstanceResolver } from './handler.js';

/**
 * What a request-scoped handler sees as `REQUEST`: the event being handled. `EVENT_ENVELOPE` reads it.
 * A separate object so Nest's ContextIdStrategy can tag it without touching the envelope.
 */
export class EventRequest {
  constructor(readonly envelope: EventEnvelope) {}
}

/**
 * For a provider whose dependency tree is not static (request-scoped, transient, durable): builds a
 * resolver that asks Nest for the instance of one event's context. Durable providers follow the
 * application's ContextIdStrategy (ContextIdFactory.getByRequest applies it).
 */
export function scopedInstanceResolver(moduleRef: ModuleRef, token: Type<unknown> | string | symbol): InstanceResolver {
  return async (envelope) => {
    const request = new EventRequest(envelope);
    const contextId = ContextIdFactory.getByRequest(request);
    moduleRef.registerRequestByContextId(request, contextId);
    return (await moduleRef.resolve(token, contextId, { strict: false })) as object;
  };
}
