/** Base class of every error this library throws, so callers can catch them as one family. */
export class EventBusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad input to `publish`, `on`, `waitFor`, ... : the message says what to change. */
export class InvalidEventError extends EventBusError {}

/** An `@OnEvent` decorator used in a way that cannot work. Names the class and method. */
export class InvalidHandlerError extends EventBusError {}

/** `publish` after `app.close()` began; a `waitFor` still waiting when the bus shut down. */
export class EventBusClosedError extends EventBusError {
  constructor(eventName: string, action: 'publish' | 'waitFor' = 'publish') {
    super(
      action === 'publish'
        ? `Cannot publish "${eventName}": the event bus is shutting down. ` +
            'Publish before app.close(), or from a handler that is still running.'
        : `waitFor(${eventName}) can no longer be satisfied: the event bus has shut down (app.close()) before a matching event.`,
    );
  }
}

/** Too many events published before the application finished start-up. */
export class BufferOverflowError extends EventBusError {
  constructor(eventName: string, limit: number) {
    super(
      `Cannot publish "${eventName}": ${limit} events are already buffered waiting for start-up to finish. ` +
        'Call app.init() (or app.listen()) before publishing this many events, or raise maxBufferedBeforeReady.',
    );
  }
}

/**
 * `maxQueued` accepted events are not finished yet (queued, waiting for or in their handlers, or not yet
 * accepted by the transport's broker): the event is refused, never dropped silently.
 */
export class BackpressureError extends EventBusError {
  constructor(eventName: string, limit: number) {
    super(
      `Cannot publish "${eventName}": ${limit} accepted events are not finished yet (maxQueued). ` +
        'Slow the producer down (await publishAndWait or drain()), or raise maxQueued.',
    );
  }
}

/** `drain(timeoutMs)` gave up while work was still queued or running. */
export class DrainTimeoutError extends EventBusError {
  constructor(timeoutMs: number, readonly unfinished: number) {
    super(`drain() timed out after ${timeoutMs}ms with ${unfinished} handler runs or events still pending.`);
  }
}

/** `waitFor(event, { timeoutMs })` saw no matching event in time. */
export class WaitForTimeoutError extends EventBusError {
  constructor(eventLabel: string, timeoutMs: number) {
    super(`waitFor(${eventLabel}) timed out after ${timeoutMs}ms without a matching event.`);
  }
}

/** Waiting on a bus whose application was never initialised: it would hang forever. */
export class EventBusNotReadyError extends EventBusError {
  constructor(what: string) {
    super(
      `${what} cannot finish: the application has not been initialised, so no handler is registered yet. ` +
        'Call `await app.init()` (or `await moduleRef.createNestApplication().init()` in tests) first.',
    );
  }
}

/** `EventBusModule.forRoot()` / `forRootAsync()` options that cannot work: names every wrong option. */
export class InvalidModuleOptionsError extends EventBusError {
  constructor(readonly problems: readonly string[]) {
    super(
      `EventBusModule options are invalid: ${problems.join('; ')}. ` +
        'Fix them where the options are built (forRoot({...}), or the forRootAsync factory: a value read from ' +
        'configuration arrives as a string or undefined and needs Number(...) with a check, or ConfigService.getOrThrow).',
    );
  }
}

/** `imports: [EventBusModule]` without `.forRoot()`: the module has no options, so nothing could be built. */
export class EventBusModuleNotConfiguredError extends EventBusError {
  constructor() {
    super(
      'EventBusModule was imported without forRoot(): import EventBusModule.forRoot() (or forRootAsync({ useFactory })) ' +
        'once, in the root module, e.g. @Module({ imports: [EventBusModule.forRoot()] }). It is global, so feature modules ' +
        'need no import of their own (with { global: false }, import that same forRoot() module where it is injected).',
    );
  }
}

/** `EventBusModule` imported more than once in one application with different options. */
export class DuplicateEventBusModuleError extends EventBusError {}

/**
 * A `publishAndWait` (or transport delivery) the bus gave up on: the application closed before the
 * event could be delivered (never initialised, or the shutdown timeout passed).
 */
export class DeliveryAbandonedError extends EventBusError {
  constructor(eventName: string, eventId: string, reason: string) {
    super(`Event "${eventName}" (id ${eventId}) was not fully handled: ${reason}.`);
  }
}
