import { InvalidOutboxOptionsError } from '../errors.js';

/** Where the outbox and inbox live. */
export interface OutboxTableNames {
  /** Default 'public'. */
  schema?: string;
  /** Default 'event_bus_outbox'. */
  table?: string;
  /** Default 'event_bus_inbox'. */
  inboxTable?: string;
}

/** Validated names, safe to splice into SQL (lower-case identifiers, no quoting needed). */
export interface ResolvedTableNames {
  schema: string;
  table: string;
  inboxTable: string;
  /** `schema.table`, `schema.inboxTable`. */
  outbox: string;
  inbox: string;
  /** The LISTEN/NOTIFY channel the relay is woken on. */
  channel: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

export function resolveTableNames(names: OutboxTableNames = {}): ResolvedTableNames {
  const schema = names.schema ?? 'public';
  const table = names.table ?? 'event_bus_outbox';
  const inboxTable = names.inboxTable ?? 'event_bus_inbox';
  for (const [option, value] of Object.entries({ schema, table, inboxTable })) {
    if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
      throw new InvalidOutboxOptionsError(
        `OutboxModule option \`${option}\` must be a lower-case SQL identifier (letters, digits, _; at most 48 characters), got ${JSON.stringify(value)}.`,
      );
    }
  }
  if (table === inboxTable) throw new InvalidOutboxOptionsError('OutboxModule options `table` and `inboxTable` must differ.');
  return { schema, table, inboxTable, outbox: `${schema}.${table}`, inbox: `${schema}.${inboxTable}`, channel: `${schema}.${table}` };
}
