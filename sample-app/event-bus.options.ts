import type { EventBusModuleOptions } from '../lib/index.js';
import type { SampleConfig } from './sample.config.js';

/**
 * Every EventBusModule option of the sample, in one place (a transport, when one is added, goes here).
 * Handlers declare no retry of their own, so this policy is the service's: a failing handler is retried
 * with exponential backoff (RETRY_DELAY_MS, then twice that, ... up to RETRY_MAX_DELAY_MS), then its
 * event is dead-lettered (see GET /events/dead-letters).
 */
export function eventBusOptions(config: SampleConfig): EventBusModuleOptions {
  return {
    retry: {
      attempts: config.retry.attempts,
      backoff: { initialDelayMs: config.retry.initialDelayMs, factor: 2, maxDelayMs: config.retry.maxDelayMs },
    },
    shutdownTimeoutMs: config.shutdownTimeoutMs,
  };
}
