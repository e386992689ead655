import { EventBusError } from '../errors.js';

/** Base class of the outbox's errors. */
export class OutboxError extends EventBusError {}

/** `outbox.publish(trx, ...)` was given something that is not an open transaction: nothing was written. */
export class OutboxTransactionRequiredError extends OutboxError {}

/** An OutboxModule option that cannot work; the message names the option. */
export class InvalidOutboxOptionsError extends OutboxError {}
