/** What became of a promise within a bounded wait: a hang is reported as "never settled", not waited out. */
export type Outcome<T> =
  | { state: 'resolved'; value: T }
  | { state: 'rejected'; error: unknown }
  | { state: 'never settled' };

/**
 * Waits at most `ms` for `promise`. The bound only turns a hang into a readable failure ("never
 * settled"): assertions are on the state, never on how long it took.
 */
export function outcomeWithin<T>(promise: Promise<T>, ms: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ state: 'never settled' }), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ state: 'resolved', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ state: 'rejected', error });
      },
    );
  });
}

/** Tracks whether a promise settled yet, without awaiting it (and marks its rejection as handled). */
export function track<T>(promise: Promise<T>): { readonly state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const tracked: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => {
      tracked.state = 'resolved';
      tracked.value = value;
    },
    (error: unknown) => {
      tracked.state = 'rejected';
      tracked.error = error;
    },
  );
  return tracked;
}

/** Lets `n` macrotasks pass (what a stray timer-0 rethrow or a late retry needs to surface). */
export async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
