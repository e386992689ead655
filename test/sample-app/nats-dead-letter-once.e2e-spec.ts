import 'reflect-metadata';
import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { EventBus, EventBusModule, OnEvent, type HandlerFailure } from '../../lib/index.js';
import { NatsJetStreamTransport } from '../../lib/nats/index.js';
import { deleteSampleStreams, describeWithNats, NATS_URL, rawConnection, uniqueNatsConfig } from './nats-env.js';

// Regression test (was a reproduction found while running the sample over NATS): a handler that still
// fails after its retry policy used to be reported as dead-lettered (deadLetters$ with `final: true`, an
// ERROR log line) on EVERY broker delivery, although the transport then redelivered the message. Now the
// transport delivers with `lastDelivery: false` until its last allowed delivery, so the bus reports
// earlier give-ups as non-final and dead-letters the event once.

const describeNats = await describeWithNats();

@Injectable()
class AlwaysFails {
  @OnEvent('thing.happened')
  handle(): void {
    throw new Error('boom');
  }
}

describeNats('NATS transport + bus: a failing handler is dead-lettered once per event', () => {
  let nc: NatsConnection;
  let app: INestApplication | undefined;
  const { stream } = uniqueNatsConfig('repro', 'repro');

  beforeAll(async () => {
    nc = await rawConnection();
  });

  afterAll(async () => {
    await app?.close();
    await deleteSampleStreams(nc, stream);
    await nc.close();
  });

  it('deadLetters$ emits one final failure, when the transport gives up (maxDeliveries: 2)', async () => {
    const transport = new NatsJetStreamTransport({ servers: NATS_URL, stream, group: 'repro', maxDeliveries: 2, backoff: { initialDelayMs: 0 } });
    const moduleRef = await Test.createTestingModule({
      imports: [EventBusModule.forRoot({ logger: false, transport })],
      providers: [AlwaysFails],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const bus = app.get(EventBus);
    const finalFailures: HandlerFailure[] = [];
    bus.deadLetters$.subscribe((failure) => finalFailures.push(failure));

    bus.publish('thing.happened', { n: 1 });
    // The transport dead-letters after the 2nd delivery; by then the bus has reported both deliveries.
    const jsm = await jetstreamManager(nc);
    while ((await jsm.streams.info(`${stream}_DEAD_LETTERS`)).state.messages === 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Today: 2 (one per delivery), each `final: true`.
    expect(finalFailures.map((failure) => failure.final)).toEqual([true]);
  });
});
