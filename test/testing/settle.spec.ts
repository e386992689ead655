import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { DrainTimeoutError, EventBusModule, OnEvent } from '../../lib/index.js';
import { createEventTestingModule, SettleTimeoutError, type EventTestingModule } from '../../lib/testing/index.js';

/** A handler whose promise the test settles by hand: "still running" for as long as the test wants. */
@Injectable()
class SlowHandler {
  release: () => void = () => undefined;
  finished = false;

  @OnEvent('report.requested')
  async build() {
    await new Promise<void>((resolve) => (this.release = resolve));
    this.finished = true;
  }
}

describe('EventRecorder.settle', () => {
  let t: EventTestingModule;
  let slow: SlowHandler;

  beforeEach(async () => {
    t = await createEventTestingModule({ imports: [EventBusModule.forRoot({ logger: false })], providers: [SlowHandler] });
    slow = t.app.get(SlowHandler);
  });
  afterEach(async () => {
    slow.release();
    await t.close();
  });

  it('resolves only once running handlers have finished', async () => {
    t.publisher.publish('report.requested', { id: 1 });
    const settled = t.recorder.settle({ timeoutMs: Infinity });
    await t.recorder.waitFor('report.requested');
    slow.release();
    await settled;
    expect(slow.finished).toBe(true);
  });

  it('past its timeout, fails saying what keeps the bus busy and what to change', async () => {
    t.publisher.publish('report.requested', { id: 1 });
    const error = await t.recorder.settle({ timeoutMs: 10 }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(SettleTimeoutError);
    expect(error).toBeInstanceOf(DrainTimeoutError); // catchable like the core's drain() timeout
    expect((error as SettleTimeoutError).unfinished).toBe(1);
    expect((error as Error).message).toBe(
      'recorder.settle() timed out after 10ms with 1 handler run or event still pending. ' +
        'A handler that returns a promise which never settles, or a long retry backoff, keeps the bus busy: ' +
        'fix the handler, or pass a longer { timeoutMs }.\n' +
        'Published (1 event, in order):\n' +
        '  1. report.requested { id: 1 }',
    );
    expect(slow.finished).toBe(false);
  });

  it('on an idle bus, resolves at once', async () => {
    await t.recorder.settle({ timeoutMs: Infinity });
    expect(t.recorder.count()).toBe(0);
  });
});
