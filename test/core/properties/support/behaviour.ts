/** How a generated handler fails (its first `failures` attempts) and how it then succeeds. */
export type FailStyle = 'throw' | 'reject' | 'thenThrows' | 'thenGetterThrows' | 'thenableReject';
/**
 * `never` returns a thenable that never settles: only generated where a close() timeout ends the
 * program (never with a final drain, which would rightly wait for ever).
 */
export type OkStyle = 'sync' | 'promise' | 'microtasks' | 'delay' | 'thenableBoth' | 'never';

export interface Behaviour {
  failures: number;
  failStyle: FailStyle;
  okStyle: OkStyle;
  /** Microtasks to chain (`microtasks`) or ms to sleep (`delay`), before finishing. */
  steps: number;
  /** On success of an event of depth 0, publish this follow-up (depth 1) from inside the handler. */
  followUp?: string;
}

export interface RetrySpec {
  attempts: number;
  backoff?: { initialDelayMs: number; factor?: number; maxDelayMs?: number };
}

/** The policy part of handler options: what `on()` options or a named module policy set. */
export interface PolicySpec {
  retry?: RetrySpec;
  concurrency?: number;
  priority?: number;
}

/** An error the generated handlers throw on purpose (recognisable in reports). */
export class PlannedFailure extends Error {}

/**
 * Plays a behaviour for one attempt. `finish(ok)` is recorded when the handler's own work is over,
 * before the bus can observe the result (so the model never runs ahead of the bus).
 */
export function play(behaviour: Behaviour, attempt: number, body: () => void, finish: (ok: boolean) => void): unknown {
  if (attempt <= behaviour.failures) {
    const error = new PlannedFailure(`planned failure ${attempt}/${behaviour.failures}`);
    switch (behaviour.failStyle) {
      case 'throw':
        finish(false);
        throw error;
      case 'reject':
        return (async () => {
          await null;
          finish(false);
          throw error;
        })();
      case 'thenThrows':
        finish(false);
        return {
          then() {
            throw error;
          },
        };
      case 'thenGetterThrows':
        finish(false);
        return {
          get then(): unknown {
            throw error;
          },
        };
      case 'thenableReject':
        finish(false);
        return {
          then(_onFulfilled: unknown, onRejected: (e: unknown) => void) {
            onRejected(error);
          },
        };
    }
  }
  const succeed = () => {
    body();
    finish(true);
  };
  switch (behaviour.okStyle) {
    case 'sync':
      succeed();
      return 'a value the bus ignores';
    case 'promise':
      succeed();
      return Promise.resolve(42);
    case 'microtasks':
      return (async () => {
        for (let i = 0; i < behaviour.steps; i++) await null;
        succeed();
      })();
    case 'delay':
      return new Promise<void>((resolve) =>
        setTimeout(() => {
          succeed();
          resolve();
        }, behaviour.steps),
      );
    case 'thenableBoth':
      succeed();
      return {
        then(onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) {
          onFulfilled('first');
          onRejected(new Error('a second, ignored settlement'));
        },
      };
    case 'never':
      return { then() {} };
  }
}
