import type { EventTransport } from '../../../lib/index.js';

/** Options every transport under test understands, mapped onto its own. */
export interface ConformanceOptions {
  signingKey?: string;
  maxDeliveries?: number;
  /** Redelivery backoff: short in tests. */
  backoffMs?: number;
  /** Fast takeover of a dead instance's messages (NATS ack wait, Redis reclaim idle). */
  fastTakeover?: boolean;
  /** Another server (a private one for restart tests). */
  url?: string;
  closeTimeoutMs?: number;
}

export interface DeadLetterView {
  reason: string;
  handler?: string;
  deliveries?: number;
  eventId?: string;
  group?: string;
}

/** One test's namespace on a transport: fresh stream names, cleaned up afterwards. */
export interface TransportNamespace {
  transport(group: string, options?: ConformanceOptions): EventTransport;
  /** Writes a message straight into the stream: garbage, an unsigned event, or an event signed with the wrong key. */
  injectRaw(kind: 'garbage' | 'unsigned' | 'forged', url?: string): Promise<void>;
  deadLetters(url?: string): Promise<DeadLetterView[]>;
  /** Environment for the child-process worker (fixtures/conformance-worker.ts) to build the same transport. */
  workerEnv(group: string, options?: ConformanceOptions): Record<string, string>;
  dispose(): Promise<void>;
}

export interface PrivateBroker {
  url: string;
  /** Stops the server (killing it), then starts it again on the same port with the same data. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface TransportFixture {
  name: string;
  /** `describe`, or `describe.skip` with a printed reason when the server is unreachable (never under CI=true). */
  describe(): Promise<jest.Describe>;
  namespace(label: string): TransportNamespace;
  /**
   * What the engine can be put through: a loopback has no process of its own to kill or restart, and no
   * durable groups (a message waiting for the group's next instance, given back at close).
   */
  supports: { childProcesses: boolean; brokerRestart: boolean; durableGroups: boolean };
  privateBroker?(): Promise<PrivateBroker>;
}
