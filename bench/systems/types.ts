/** What every system adapter offers the scenarios. One file per system implements it. */

export type ListenerKind = 'sync' | 'async';

/** What to subscribe before a throughput/latency run. */
export interface ListenerSpec {
  /** Exact event names; each gets `perName` listeners. Publishing goes round-robin over them. */
  names: readonly string[];
  perName: number;
  /** One extra listener on this pattern (e.g. 'order.*'), if set. */
  pattern?: string;
  kind: ListenerKind;
  /** Every listener calls this with the published payload when it completes. */
  onEvent: (payload: any) => void;
}

export interface SystemInstance {
  /** Publishes `count` events, names round-robin, all with the same payload. Does not wait. */
  publishMany(count: number, payload: unknown): void;
  /** Publishes one event named `names[nameIndex]`. */
  publishOne(nameIndex: number, payload: unknown): void;
  /** Publishes one event and resolves once its handlers finished (undefined if the system cannot). */
  publishAndWait?: (nameIndex: number, payload: unknown) => Promise<unknown>;
  close(): Promise<void>;
}

/** A live system to add run-time subscriptions to (heap per subscription). */
export interface SubscriptionHost {
  subscribe(name: string, listener: (payload: unknown) => void): void;
  close(): Promise<void>;
}

export interface System {
  id: string;
  label: string;
  /** A real Nest application context (the bootstrap scenario only applies to these). */
  nest: boolean;
  /** Can subscribe a wildcard pattern like 'order.*'. */
  patterns: boolean;
  /** How publish-and-wait is done, or why it is not supported. */
  waitNote: string;
  /** How run-time subscriptions are added (heap scenario). */
  subscribeNote: string;
  /** Fewer events for the flood scenario, with the reason (a system whose cost grows with the backlog). */
  floodLimit?: { events: number; reason: string };
  create(spec: ListenerSpec): Promise<SystemInstance>;
  subscriptionHost(): Promise<SubscriptionHost>;
  /**
   * Nest systems: prepares `count` provider classes (with one handler each, or plain) and returns a
   * function that bootstraps an application context with them and resolves with a closer.
   */
  prepareBootstrap?(count: number, withHandlers: boolean): () => Promise<() => Promise<void>>;
}

export const NOT_SUPPORTED = 'n/a';
