/** The resolved store (tables migrated if asked for) and the transaction adapter: internal tokens. */
export const OUTBOX_STORE = Symbol('OUTBOX_STORE');
export const OUTBOX_ADAPTER = Symbol('OUTBOX_ADAPTER');
