/** What the order service can be tuned with. Tests pass their own (fast retries, no mail latency). */
export interface SampleConfig {
  /** Every handler's retry policy: tries (the first included) and exponential backoff between them. */
  retry: { attempts: number; initialDelayMs: number; maxDelayMs: number };
  /** How long the simulated mail server takes per message: the "slow listener" of the sample. */
  emailLatencyMs: number;
  /** How long `app.close()` waits for in-flight handlers. */
  shutdownTimeoutMs: number;
  /** Units in stock when the service starts; an item not listed has none. */
  initialStock: Readonly<Record<string, number>>;
}

/** Injection token of the SampleConfig. */
export const SAMPLE_CONFIG = Symbol('SAMPLE_CONFIG');

export const DEFAULT_STOCK: Readonly<Record<string, number>> = { Coffee: 100, Tea: 50, Croissant: 12 };

/**
 * Reads the configuration from environment variables (all optional):
 * RETRY_ATTEMPTS (4), RETRY_DELAY_MS (500), RETRY_MAX_DELAY_MS (5000), EMAIL_LATENCY_MS (300),
 * SHUTDOWN_TIMEOUT_MS (10000).
 */
export function sampleConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SampleConfig {
  return {
    retry: {
      attempts: readInteger(env, 'RETRY_ATTEMPTS', 4, 1),
      initialDelayMs: readInteger(env, 'RETRY_DELAY_MS', 500, 0),
      maxDelayMs: readInteger(env, 'RETRY_MAX_DELAY_MS', 5000, 0),
    },
    emailLatencyMs: readInteger(env, 'EMAIL_LATENCY_MS', 300, 0),
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0),
    initialStock: DEFAULT_STOCK,
  };
}

/** A whole number from the environment; a typo fails at start-up rather than meaning "0". */
export function readInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number >= ${min}, got "${raw}".`);
  }
  return value;
}
