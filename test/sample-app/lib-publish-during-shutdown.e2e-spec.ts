import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventBus, EventBusModule, OnEvent, type HandlerFailure } from '../../lib/index.js';
import { refusesPublish } from './refuses-publish.js';

/**
 * Library issue found while building the sample (minimal reproduction, no sample code involved):
 * once app.close() began, a handler that is still running cannot publish its follow-up event.
 * EventBusClosedError's own message says publishing "from a handler that is still running" is fine,
 * and drain() counts "events published by handlers meanwhile"; shutdown should too. In the sample this
 * loses `order.reserved` for an OrderPlaced that was queued or being retried when SIGTERM arrived: the
 * stock is taken but the order stays 'placed', and the retry takes the stock a second time.
 */
let release!: () => void;
const gate = new Promise<void>((resolve) => (release = resolve));

@Injectable()
class Workflow {
  readonly completed: string[] = [];

  constructor(private readonly bus: EventBus) {}

  @OnEvent('step.one')
  async stepOne(): Promise<void> {
    await gate;
    this.bus.publish('step.two');
  }

  @OnEvent('step.two')
  stepTwo(): void {
    this.completed.push('step.two');
  }
}

describe('library: a running handler publishing while the application closes', () => {
  it('delivers the follow-up event before app.close() resolves', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRoot({ logger: false })],
      providers: [Workflow],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const bus = app.get(EventBus);
    const deadLetters: HandlerFailure[] = [];
    bus.deadLetters$.subscribe((failure) => deadLetters.push(failure));

    bus.publish('step.one');
    const closing = app.close();
    // Wait (in event-loop turns, not time) until the bus refuses publishes from outside handlers.
    for (let turn = 0; turn < 1000 && !refusesPublish(bus); turn++) await nextTurn();
    expect(refusesPublish(bus)).toBe(true);
    release();
    await closing;

    expect(deadLetters.map((failure) => String(failure.error))).toEqual([]);
    expect(app.get(Workflow).completed).toEqual(['step.two']);
  });
});
