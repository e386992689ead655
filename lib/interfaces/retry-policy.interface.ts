/** How a failed handler run is retried. */
export interface RetryPolicy {
  /** Total tries, the first one included (1 = no retry). */
  attempts: number;
  backoff?: BackoffPolicy;
}

export interface BackoffPolicy {
  /** Delay before the second try. */
  initialDelayMs: number;
  /** Each further delay is the previous one times this factor. Default 2. */
  factor?: number;
  /** Upper bound of any single delay. */
  maxDelayMs?: number;
  /** Spread delays randomly over [0, delay] ("full jitter"). Off unless asked for. */
  jitter?: boolean;
}
