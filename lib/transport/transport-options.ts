import type { EventBusError } from '../errors.js';

/** Delays between redeliveries of a message whose handling failed. */
export interface RedeliveryBackoff {
  /** Delay before the 2nd delivery. Default 1000. */
  initialDelayMs?: number;
  /** Multiplier per further delivery. Default 2. */
  factor?: number;
  /** Cap. Default 60000. */
  maxDelayMs?: number;
}

/** The delay before delivery number `delivery + 1`, after delivery number `delivery` failed. */
export function redeliveryDelay(backoff: Required<RedeliveryBackoff>, delivery: number): number {
  return Math.min(backoff.maxDelayMs, backoff.initialDelayMs * backoff.factor ** Math.max(0, delivery - 1));
}

/**
 * Checks a transport's constructor options, throwing the transport's own config error with a message
 * that names the option and says what to change: `TransportName: \`option\` must be ... (got ...)`.
 */
export class OptionChecker {
  constructor(
    private readonly owner: string,
    private readonly ErrorType: new (message: string) => EventBusError,
  ) {}

  fail(message: string): never {
    throw new this.ErrorType(`${this.owner}: ${message}`);
  }

  positive(option: string, value: number | undefined, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      this.fail(`\`${option}\` must be a positive number (got ${String(value)}).`);
    }
    return value;
  }

  /** A positive whole number: fractions would reach the server (batch sizes, limits) and fail there, cryptically. */
  count(option: string, value: number | undefined, fallback: number): number {
    const n = this.positive(option, value, fallback);
    if (!Number.isInteger(n)) this.fail(`\`${option}\` must be a whole number (got ${String(n)}); round it, e.g. ${Math.max(1, Math.round(n))}.`);
    return n;
  }

  nonNegative(option: string, value: number | undefined, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(`\`${option}\` must be zero or a positive number (got ${String(value)}).`);
    }
    return value;
  }

  /** At least `min` (after the checks of `positive`). */
  atLeast(option: string, value: number | undefined, fallback: number, min: number): number {
    const n = this.positive(option, value, fallback);
    if (n < min) this.fail(`\`${option}\` must be at least ${min} (got ${n}).`);
    return n;
  }

  oneOf<T extends string>(option: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
    if (value === undefined) return fallback;
    if (!allowed.includes(value)) this.fail(`\`${option}\` must be ${allowed.map((a) => `'${a}'`).join(' or ')} (got ${JSON.stringify(value)}).`);
    return value;
  }

  backoff(option: string, backoff: RedeliveryBackoff | undefined): Required<RedeliveryBackoff> {
    const b = backoff ?? {};
    return {
      initialDelayMs: this.nonNegative(`${option}.initialDelayMs`, b.initialDelayMs, 1000),
      factor: this.positive(`${option}.factor`, b.factor, 2),
      maxDelayMs: this.nonNegative(`${option}.maxDelayMs`, b.maxDelayMs, 60_000),
    };
  }

  /** A shared HMAC key: a string or bytes, at least 16 bytes. */
  signingKey(key: string | Uint8Array | undefined): Uint8Array | undefined {
    if (key === undefined) return undefined;
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (!(bytes instanceof Uint8Array) || bytes.length < 16) {
      this.fail('`signingKey` must be a string or bytes of at least 16 bytes (use a random secret shared by every service).');
    }
    return bytes;
  }
}
