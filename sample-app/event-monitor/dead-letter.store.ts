import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { EventBus, type HandlerFailure } from '../../lib/index.js';
import type { DeadLetter } from './dead-letter.js';

/** Bounds memory: past this, the oldest dead letters are forgotten. */
const MAX_KEPT = 1000;

/** Keeps what `EventBus.deadLetters$` emits: every handler run that failed its last retry. */
@Injectable()
export class DeadLetterStore implements OnModuleInit, OnModuleDestroy {
  private readonly letters: DeadLetter[] = [];
  private subscription: Subscription | undefined;

  constructor(private readonly bus: EventBus) {}

  onModuleInit(): void {
    this.subscription = this.bus.deadLetters$.subscribe((failure) => this.keep(failure));
  }

  // The bus finishes in-flight handlers before this runs, so failures during shutdown are kept too.
  onModuleDestroy(): void {
    this.subscription?.unsubscribe();
  }

  list(): DeadLetter[] {
    return [...this.letters];
  }

  private keep({ envelope, handler, error, attempt }: HandlerFailure): void {
    this.letters.push({
      eventId: envelope.id,
      event: String(envelope.name),
      handler,
      attempts: attempt,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      correlationId: envelope.correlationId,
      payload: envelope.payload,
      failedAt: new Date().toISOString(),
    });
    if (this.letters.length > MAX_KEPT) this.letters.shift();
  }
}
