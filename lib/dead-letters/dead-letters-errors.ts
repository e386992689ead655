import { EventBusError } from '../errors.js';

/** A `DeadLetters` query with a wrong filter or limit: the message says which field. */
export class InvalidDeadLetterQueryError extends EventBusError {}
