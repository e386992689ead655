import type { LoggerService } from '@nestjs/common';
import type { EventSelector } from '../event-name.js';
import type { EventTransport } from '../transport/event-transport.interface.js';
import type { HandlerPolicy } from './handler-options.interface.js';
import type { RetryPolicy } from './retry-policy.interface.js';

export interface EventBusModuleOptions {
  /** Default retry policy of every handler. Default: no retry. */
  retry?: RetryPolicy;
  /** Default in-flight limit per handler. Default: unlimited. */
  concurrency?: number;
  /** How long `app.close()` waits for queued and running handlers. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Events kept while the application starts; one more throws BufferOverflowError. Default 10000. */
  maxBufferedBeforeReady?: number;
  /** Events waiting for dispatch; one more throws BackpressureError. Default: unbounded. */
  maxQueued?: number;
  /** Named policies handlers refer to with `@OnEvent(event, { policy: 'name' })`, e.g. built from configuration. */
  policies?: Record<string, HandlerPolicy>;
  /**
   * Track the event being handled across `await`s with an AsyncLocalStorage (default true), so events
   * published anywhere in a handler get its causation and correlation. On Node 20 an AsyncLocalStorage
   * turns on promise hooks for the whole process (every promise costs more); with false, only events
   * published synchronously in a handler (before its first `await`) are linked, and no hooks are on.
   */
  asyncContext?: boolean;
  /** Carries events between processes. Default: in-process only. */
  transport?: EventTransport;
  /**
   * With a transport: which events travel through it (names, patterns like `'order.**'`, event
   * classes). The others stay in this process: handled here only, with in-process latency, and
   * `publishAndWait` waits for their local handlers. Default: every event travels.
   */
  travel?: readonly EventSelector[];
  /**
   * Apply the transports' payload rules to events handled in this process too (default false): a
   * payload that could not travel (BigInt, a circular reference, a function, an `undefined` value, NaN,
   * a Map...) makes `publish` throw InvalidEventError naming its path, so code that works in-process
   * does not break when a transport is switched on (or when an event is moved into `travel`).
   */
  serializablePayloads?: boolean;
  /**
   * OpenTelemetry spans and metrics (README "Observability"). Default: on when @opentelemetry/api is
   * installed (without it nothing is loaded); false loads nothing and costs nothing.
   */
  telemetry?: boolean;
  /** Where the bus logs; false for silence. Default: Nest's Logger with context 'EventBus'. */
  logger?: LoggerService | false;
}
