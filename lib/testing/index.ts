/**
 * `nestjs-event-bus/testing`: deterministic event tests. Record what was published, wait for the
 * bus to go idle or for one event, assert on handler failures; no sleeps. Nothing here needs Jest:
 * the Jest matchers are opt-in (`expect.extend(eventBusMatchers)`).
 */
export {
  EventRecorder,
  DEFAULT_TESTING_TIMEOUT_MS,
  type EventRecorderOptions,
  type RecorderWaitForOptions,
  type SettleOptions,
  type EventBusHost,
  type PayloadOf,
} from './event-recorder.js';
export { createEventTestingModule, type EventTestingModule, type EventTestingModuleOptions } from './event-testing-module.js';
export { mockHandlers, type RecordingHandler } from './handler-mock.js';
export { eventBusMatchers, type ExpectedFailure } from './jest-matchers.js';
export type { RecordedFailure, FailureQuery } from './recorded-failure.js';
export { EventNotPublishedError, SettleTimeoutError, UnexpectedHandlerFailureError, EventBusNotFoundError } from './testing-errors.js';
