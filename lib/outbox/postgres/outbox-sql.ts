// The outbox and inbox tables as a string module (not a .sql file read at run time): the CommonJS
// build has no import.meta.url to find a file next to it, and a string needs no copy step.
// Placeholders {{schema}}, {{outbox}} and {{inbox}} are replaced by outboxMigrationSql().
export const OUTBOX_MIGRATION_TEMPLATE = `-- nestjs-event-bus outbox and inbox tables for PostgreSQL (>= 12).
-- applyOutboxMigrations() runs this SQL; to run it with your own migration tool, take the output of
-- outboxMigrationSql({ schema, table, inboxTable }) (or replace {{schema}}, {{outbox}} and {{inbox}}
-- below: defaults public, event_bus_outbox, event_bus_inbox). Safe to run again.

CREATE SCHEMA IF NOT EXISTS {{schema}};

-- One row per event published with outbox.publish(trx, ...), written in the caller's transaction.
CREATE TABLE IF NOT EXISTS {{schema}}.{{outbox}} (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- commit-independent insertion order
  event_id       text        NOT NULL,                            -- the envelope id the bus publishes with
  name           text        NOT NULL,
  payload        jsonb,
  headers        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  correlation_id text,
  ordering_key   text,                                            -- events with one key leave in seq order
  occurred_at    timestamptz NOT NULL DEFAULT now(),
  status         text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'published', 'dead')),
  attempts       integer     NOT NULL DEFAULT 0,                  -- failed publishes (crashes do not count)
  available_at   timestamptz NOT NULL DEFAULT now(),              -- not before (retry backoff)
  leased_until   timestamptz,                                     -- a relay holds it until then
  leased_by      text,
  last_error     text,
  published_at   timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS {{outbox}}_event_id_key ON {{schema}}.{{outbox}} (event_id);
-- The relay's claim: pending rows in seq order.
CREATE INDEX IF NOT EXISTS {{outbox}}_pending_idx ON {{schema}}.{{outbox}} (seq) WHERE status = 'pending';
-- The relay's per-key ordering check: an earlier pending row with the same key.
CREATE INDEX IF NOT EXISTS {{outbox}}_pending_key_idx ON {{schema}}.{{outbox}} (ordering_key, seq)
  WHERE status = 'pending' AND ordering_key IS NOT NULL;
-- Cleanup of published rows, listing of dead ones.
CREATE INDEX IF NOT EXISTS {{outbox}}_published_idx ON {{schema}}.{{outbox}} (published_at) WHERE status = 'published';
CREATE INDEX IF NOT EXISTS {{outbox}}_dead_idx ON {{schema}}.{{outbox}} (seq) WHERE status = 'dead';

-- One row per (event, handler) an inbox handler processed, written in the handler's transaction.
CREATE TABLE IF NOT EXISTS {{schema}}.{{inbox}} (
  event_id     text        NOT NULL,
  handler      text        NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (event_id, handler)
);

CREATE INDEX IF NOT EXISTS {{inbox}}_processed_idx ON {{schema}}.{{inbox}} (processed_at);
`;
