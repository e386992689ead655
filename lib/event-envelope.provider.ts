import { Scope, type FactoryProvider } from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import { EVENT_ENVELOPE } from './constants.js';
import { EventRequest } from './scoped-instance-resolver.js';

/** `@Inject(EVENT_ENVELOPE)` in a request-scoped handler: the envelope of the event being handled. */
export const eventEnvelopeProvider: FactoryProvider = {
  provide: EVENT_ENVELOPE,
  scope: Scope.REQUEST,
  inject: [REQUEST],
  // Outside an event (an HTTP request, say) there is no envelope.
  useFactory: (request: unknown) => (request instanceof EventRequest ? request.envelope : undefined),
};
