import 'reflect-metadata';
import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { EventBusModule, EventPublisher, OnEvent } from '../../lib/index.js';
import { EventBusDashboardModule } from '../../lib/dashboard/index.js';
import { describeWithNats, eventually, transport } from '../nats/support/nats-test-env.js';
import { setUpNatsSuite } from '../nats/support/nats-suite.js';

const describeNats = await describeWithNats();

@Injectable()
class Shipping {
  broken = true;
  shipped: number[] = [];
  @OnEvent('parcel.ready')
  ship(parcel: { n: number }) {
    if (this.broken) throw new Error('carrier down');
    this.shipped.push(parcel.n);
  }
}

describeNats('the events page over NATS JetStream (localOnly)', () => {
  const suite = setUpNatsSuite('ops_page');
  let app: INestApplication;

  afterEach(() => app?.close());

  it("shows the group's topology and its dead letters from the dead-letter stream, and redrives one", async () => {
    const names = suite.names();
    @Module({
      imports: [
        EventBusModule.forRoot({ logger: false, transport: transport(names, 'shipping', { maxDeliveries: 1 }) }),
        EventBusDashboardModule.forRoot({ path: '/ops/events', localOnly: true }),
      ],
      providers: [Shipping],
    })
    class ShippingModule {}
    app = (await Test.createTestingModule({ imports: [ShippingModule] }).compile()).createNestApplication({ logger: false });
    // Links and redirects follow the URL the page is served at, global prefix included.
    app.setGlobalPrefix('api');
    await app.init();
    const http = request(app.getHttpServer());
    app.get(EventPublisher).publish('parcel.ready', { n: 1 });

    let state: { deadLetters: { id: string }[]; [key: string]: unknown } = { deadLetters: [] };
    await eventually(async () => {
      state = (await http.get('/api/ops/events/api/state').expect(200)).body;
      return state.deadLetters.length === 1;
    });
    expect(state).toEqual(
      expect.objectContaining({
        transport: 'nats',
        group: 'shipping',
        deadLetterSource: 'nats',
        topology: [{ event: 'parcel.ready', kind: 'name', handlers: ['Shipping.ship'] }],
      }),
    );
    const page = await http.get('/api/ops/events').expect(200);
    expect(page.text).toContain('kept in nats');
    expect(page.text).toContain('<a href="/api/ops/events/asyncapi.json">');
    expect(page.text).toContain(`action="/api/ops/events/dead-letters/${state.deadLetters[0].id}/redrive"`);
    const token = /name="eb-token" content="([^"]+)"/.exec(page.text)![1];
    app.get(Shipping).broken = false;
    const [letter] = state.deadLetters;
    const redirect = await http.post(`/api/ops/events/dead-letters/${letter.id}/redrive`).type('form').send({ token }).expect(303);
    expect(decodeURIComponent(redirect.headers.location)).toBe(`/api/ops/events?message=Dead letter ${letter.id} redriven: delivered.`);
    expect(app.get(Shipping).shipped).toEqual([1]);
    expect((await http.get('/api/ops/events/api/state').expect(200)).body.deadLetters).toEqual([]);
    const document = (await http.get('/api/ops/events/asyncapi.json').expect(200)).body;
    expect(document.channels['parcel.ready'].address).toBe(`${names.subjectPrefix}.parcel.ready`);
  });
});
