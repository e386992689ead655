import type { EventHeaders } from '../event-envelope.js';

export interface PublishOptions {
  /** Use this id instead of a generated one (e.g. to deduplicate at a transport). */
  id?: string;
  correlationId?: string;
  headers?: EventHeaders;
}
