import { Controller, Get } from '@nestjs/common';
import { EventBus, type HandlerOptions } from '../../lib/index.js';
import type { DeadLetter } from './dead-letter.js';
import { DeadLetterStore } from './dead-letter.store.js';

/** One line of the handler topology. */
export interface HandlerView {
  event: string;
  handler: string;
  /** The options declared on the handler (module-wide defaults such as the retry policy are not repeated). */
  options: Omit<HandlerOptions, 'filter'> & { filter?: true };
}

@Controller('events')
export class EventMonitorController {
  constructor(
    private readonly bus: EventBus,
    private readonly deadLetters: DeadLetterStore,
  ) {}

  @Get('dead-letters')
  listDeadLetters(): DeadLetter[] {
    return this.deadLetters.list();
  }

  /** Who listens to what, from `EventBus.handlers()`. */
  @Get('handlers')
  listHandlers(): HandlerView[] {
    return this.bus.handlers().map(({ event, handler, options: { filter, ...options } }) => ({
      event: typeof event === 'symbol' ? event.toString() : event,
      handler,
      options: filter === undefined ? options : { ...options, filter: true },
    }));
  }
}
