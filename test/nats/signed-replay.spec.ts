// Issue 13 item 7: a captured signed message replayed after the duplicate window, or into another stream
// that shares the key, is dead-lettered instead of handled.
import { Injectable } from '@nestjs/common';
import { jetstream } from '@nats-io/jetstream';
import { headers, nanos } from '@nats-io/transport-node';
import { EventPublisher, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { DEAD_LETTER_HEADER, NatsTransportConfigError } from '../../lib/nats/index.js';
import { consumerIsIdle, describeWithNats, eventually, Progress, startApp, storedMessages, streamMessageCount, transport } from './support/nats-test-env.js';
import { setUpNatsSuite } from './support/nats-suite.js';

const describeNats = await describeWithNats();
const KEY = 'a shared secret of enough bytes';

@Injectable()
class PaymentListener {
  readonly handled: EventEnvelope[] = [];
  readonly progress = new Progress();
  @OnEvent('payment.captured')
  handle(_payload: unknown, envelope: EventEnvelope) {
    this.handled.push(envelope);
    this.progress.add();
  }
}

describeNats('NATS JetStream transport: signed messages replayed', () => {
  const suite = setUpNatsSuite('replay');
  const windowMs = 3000;
  const signing = { signingKey: KEY, signatureMaxAgeMs: 1000, clockSkewMs: 500, streamConfig: { duplicate_window: nanos(windowMs) } };

  it('dead-letters a copy replayed after the duplicate window as expired (within it, JetStream drops it)', async () => {
    const n = suite.names();
    const app = await suite.startApp(transport(n, 'payments', signing), [PaymentListener]);
    await app.get(EventPublisher).publishAndWait('payment.captured', { amount: 10 });
    await app.get(PaymentListener).progress.reach(1);
    const [original] = await storedMessages(suite.nc, n.stream);
    const replay = () => {
      const h = headers();
      for (const key of original.header.keys()) h.set(key, original.header.get(key));
      return jetstream(suite.nc).publish(original.subject, original.data, { headers: h });
    };

    expect((await replay()).duplicate).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, windowMs + 500));
    expect((await replay()).duplicate).toBe(false);
    await eventually(async () => (await storedMessages(suite.nc, n.deadLetterStream)).length === 1);
    await eventually(() => consumerIsIdle(suite.nc, n.stream, 'payments'));
    const [letter] = await storedMessages(suite.nc, n.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('expired');
    expect(app.get(PaymentListener).handled).toHaveLength(1);
  }, 30_000);

  it('dead-letters a copy replayed into another stream that shares the key as forged', async () => {
    const source = suite.names('replaysrc');
    const target = suite.names('replaydst');
    const publisher = await suite.startApp(transport(source, 'payments', signing), []);
    const app = await suite.startApp(transport(target, 'payments', signing), [PaymentListener]);
    await publisher.get(EventPublisher).publishAndWait('payment.captured', { amount: 99 });
    const [original] = await storedMessages(suite.nc, source.stream);
    const h = headers();
    for (const key of original.header.keys()) h.set(key, original.header.get(key));
    await jetstream(suite.nc).publish(`${target.subjectPrefix}.payment.captured`, original.data, { headers: h });

    await eventually(async () => (await storedMessages(suite.nc, target.deadLetterStream)).length === 1);
    const [letter] = await storedMessages(suite.nc, target.deadLetterStream);
    expect(letter.header.get(DEAD_LETTER_HEADER.reason)).toBe('forged');
    expect(app.get(PaymentListener).handled).toHaveLength(0);
  }, 30_000);

  it('refuses a freshness bound that does not fit in the duplicate window', async () => {
    const n = suite.names();
    await expect(startApp(transport(n, 'payments', { ...signing, signatureMaxAgeMs: 2500 }), [])).rejects.toThrow(NatsTransportConfigError);
    expect(await streamMessageCount(suite.nc, n.stream)).toBe(0);
  });
});
