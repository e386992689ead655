import 'reflect-metadata';
import { DeadLetters } from '../../lib/index.js';
import { DashboardConfigError, EventBusDashboardModule } from '../../lib/dashboard/index.js';
import { startSampleApp, type RunningSampleApp } from '../sample-app/start-sample-app.js';

const auth = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString('base64')}`;

describe('EventBusDashboardModule', () => {
  it('refuses to start without a guard unless told it is local-only, and checks its options', () => {
    expect(() => EventBusDashboardModule.forRoot({ path: '/events' })).toThrow(DashboardConfigError);
    expect(() => EventBusDashboardModule.forRoot({ path: '/events' })).toThrow(/needs a `guard`.*`localOnly: true`/);
    expect(() => EventBusDashboardModule.forRoot({ path: '/events', localOnly: true })).not.toThrow();
    expect(() => EventBusDashboardModule.forRoot({ path: 'events', localOnly: true })).toThrow(/absolute URL path/);
    expect(() => EventBusDashboardModule.forRoot({ path: '/', localOnly: true })).toThrow(/below the root/);
    expect(() => EventBusDashboardModule.forRoot({ path: '/events', localOnly: true, rateMinutes: 0 })).toThrow(/rateMinutes/);
    expect(() => EventBusDashboardModule.forRoot({ path: '/events', guard: {} as never })).toThrow(/guard class or instance/);
  });
});

describe("the sample app's events page (HTTP)", () => {
  let running: RunningSampleApp;
  const password = 'test-ops-password';

  beforeEach(async () => {
    running = await startSampleApp({ opsPassword: password });
  });
  afterEach(() => running.app.close());

  it("is behind the sample's guard", async () => {
    const refused = await running.http.get('/events').expect(401);
    expect(refused.headers['www-authenticate']).toMatch(/^Basic /);
    await running.http.get('/events/api/state').set('authorization', auth('wrong')).expect(401);
    await running.http.post('/events/api/dead-letters/purge').expect(401);
  });

  it('shows the topology, the dead letter of a warehouse outage, and redrives it with the page token only', async () => {
    const { http, bus } = running;
    await http.post('/admin/inventory/outage').send({ on: true }).expect(200);
    const { id } = (await http.post('/orders').send({ item: 'Coffee', quantity: 2 }).expect(201)).body;
    await bus.drain();

    const page = await http.get('/events').set('authorization', auth(password)).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<code>InventoryListener.reserveStock</code>');
    expect(page.text).toContain('order.**');
    const [letter] = await running.app.get(DeadLetters).list();
    expect(page.text).toContain(`aria-label="Redrive dead letter ${letter.id} (order.placed to InventoryListener.reserveStock)"`);
    const token = /name="eb-token" content="([^"]+)"/.exec(page.text)![1];

    const state = (await http.get('/events/api/state').set('authorization', auth(password)).expect(200)).body;
    expect(state.rates).toContainEqual({ event: 'order.placed', published: 1, handled: expect.any(Number), failed: 3, deadLettered: 1 });
    expect(state.deadLetters.map((d: { id: string }) => d.id)).toEqual([letter.id]);

    await http.post('/admin/inventory/outage').send({ on: false }).expect(200);
    // Without the page's token: refused, nothing delivered.
    await http.post(`/events/api/dead-letters/${letter.id}/redrive`).set('authorization', auth(password)).expect(403);
    expect((await http.get(`/orders/${id}`).expect(200)).body.status).toBe('placed');
    // The form (no script): a redirect back to the page with the outcome.
    const redirect = await http
      .post(`/events/dead-letters/${letter.id}/redrive`)
      .set('authorization', auth(password))
      .type('form')
      .send({ token })
      .expect(303);
    expect(decodeURIComponent(redirect.headers.location)).toBe(`/events?message=Dead letter ${letter.id} redriven: delivered.`);
    await bus.drain();
    expect((await http.get(`/orders/${id}`).expect(200)).body.status).toBe('reserved');
    const again = await http
      .post(`/events/api/dead-letters/${letter.id}/redrive`)
      .set('authorization', auth(password))
      .set('x-eb-dashboard-token', token)
      .expect(200);
    expect(again.body).toEqual(expect.objectContaining({ outcome: 'already-redriven' }));
  });

  it('serves the AsyncAPI document', async () => {
    const document = (await running.http.get('/events/asyncapi.json').set('authorization', auth(password)).expect(200)).body;
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.info.title).toBe('Order service');
  });
});
