import { Observable, Subscriber, type Observer, type Operator, type Subscription } from 'rxjs';

/**
 * An Observable whose subscribers cannot crash the process. RxJS 7 rethrows an error thrown by a
 * subscriber (or an unhandled error notification) asynchronously, where no `try` of the bus can catch
 * it: the process dies. Here every subscriber a user passes, at the end of any `pipe()` chain, is
 * wrapped so what it throws is reported to the bus's logger instead.
 */
export class ContainedObservable<T> extends Observable<T> {
  constructor(
    private readonly report: (error: unknown) => void,
    subscribe?: (this: Observable<T>, subscriber: Subscriber<T>) => void,
  ) {
    super(subscribe);
  }

  /** `pipe()` builds on `lift`: keep every derived observable contained too. */
  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const derived = new ContainedObservable<R>(this.report);
    derived.source = this;
    derived.operator = operator;
    return derived;
  }

  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null, ...rest: unknown[]): Subscription {
    // Subscribers built by operators and by firstValueFrom are RxJS's own: they do not throw.
    if (observerOrNext instanceof Subscriber) return super.subscribe(observerOrNext);
    const report = this.report;
    let observer: Partial<Observer<T>>;
    if (typeof observerOrNext === 'function' || observerOrNext == null) {
      const [error, complete] = rest as [((e: unknown) => void) | undefined, (() => void) | undefined];
      observer = { next: observerOrNext ?? undefined, error: error ?? undefined, complete: complete ?? undefined };
    } else {
      observer = observerOrNext;
    }
    return super.subscribe({
      next: (value) => {
        try {
          observer.next?.(value);
        } catch (error) {
          report(error);
        }
      },
      error: (error: unknown) => {
        try {
          if (observer.error === undefined) report(error);
          else observer.error(error);
        } catch (thrown) {
          report(thrown);
        }
      },
      complete: () => {
        try {
          observer.complete?.();
        } catch (error) {
          report(error);
        }
      },
    });
  }
}

/** The public, contained view of a bus Subject. */
export function containedView<T>(source: Observable<T>, report: (error: unknown) => void): Observable<T> {
  return new ContainedObservable<T>(report, (subscriber) => source.subscribe(subscriber));
}
