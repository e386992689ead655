/** Node's setTimeout fires at once for delays past 2^31-1 ms (it warns and uses 1 ms). */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Cancels a timer started by `startTimer`. */
export type CancelTimer = () => void;

const NEVER: CancelTimer = () => undefined;

/**
 * Calls `fire` after `delayMs`, for any delay: `Infinity` never fires, and delays beyond Node's limit
 * are waited for in steps instead of firing at once. Returns a function that cancels it.
 */
export function startTimer(delayMs: number, fire: () => void): CancelTimer {
  if (delayMs === Infinity) return NEVER;
  let timer: NodeJS.Timeout;
  const due = Date.now() + delayMs;
  const arm = (remaining: number): void => {
    if (remaining <= MAX_TIMER_DELAY_MS) {
      timer = setTimeout(fire, Math.max(0, remaining));
    } else {
      timer = setTimeout(() => arm(due - Date.now()), MAX_TIMER_DELAY_MS);
    }
  };
  arm(delayMs);
  return () => clearTimeout(timer);
}

/** Settles like `promise`, or rejects with `onTimeout()` after `delayMs` (no timer for `Infinity`). */
export function withTimeout<T>(promise: Promise<T>, delayMs: number, onTimeout: () => unknown): Promise<T> {
  if (delayMs === Infinity) return promise;
  return new Promise<T>((resolve, reject) => {
    const cancel = startTimer(delayMs, () => reject(onTimeout()));
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}
