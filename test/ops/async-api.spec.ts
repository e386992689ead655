import 'reflect-metadata';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { Injectable } from '@nestjs/common';
import { IsString } from 'class-validator';
import { Event, EventBus, OnEvent } from '../../lib/index.js';
import { generateAsyncApi } from '../../lib/asyncapi/index.js';
import { sampleAsyncApiOptions } from '../../sample-app/async-api.js';
import { createApp } from '../support/create-app.js';
import { startSampleApp } from '../sample-app/start-sample-app.js';
import { describeWithNats, transport } from '../nats/support/nats-test-env.js';
import { setUpNatsSuite } from '../nats/support/nats-suite.js';

const describeNats = await describeWithNats();

async function parseErrors(document: object): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(document));
  return diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map((d) => `${d.path.join('.')}: ${d.message}`);
}

@Event('invoice.sent', { schema: { type: 'object', properties: { invoiceId: { type: 'string' } }, required: ['invoiceId'] }, description: 'An invoice left.' })
class InvoiceSent {
  constructor(readonly invoiceId: string) {}
}

class CustomerRenamed {
  @IsString()
  name!: string;
}

@Injectable()
class Billing {
  @OnEvent(InvoiceSent, { retry: { attempts: 3 } })
  archive() {}

  @OnEvent(['customer.*', CustomerRenamed])
  sync() {}
}

describe('generateAsyncApi', () => {
  it("documents the sample app's events, handlers and publishers as a valid AsyncAPI 3.0 document", async () => {
    const running = await startSampleApp();
    try {
      const document = await generateAsyncApi(running.app, sampleAsyncApiOptions);
      expect(await parseErrors(document)).toEqual([]);
      const channels = document.channels as Record<string, { address: string; messages: object }>;
      expect(Object.values(channels).map((c) => c.address).sort()).toEqual(
        ['new_order', 'order.placed', 'order.reservation-failed', 'order.reserved', 'order.**', 'order_shipped'].sort(),
      );
      const operations = document.operations as Record<string, { action: string; title: string; channel: { $ref: string } }>;
      const handlers = running.bus.handlers().map((h) => h.handler);
      // Every handler of the bus is an operation.
      for (const handler of handlers) expect(Object.values(operations).map((o) => o.title)).toContain(handler);
      expect(operations['InventoryListener.reserveStock']).toEqual(expect.objectContaining({ action: 'receive', channel: { $ref: '#/channels/order.placed' } }));
      expect(operations['publish.order.placed']).toEqual(expect.objectContaining({ action: 'send', summary: 'Published by OrdersService.place.' }));
      const messages = (document.components as { messages: Record<string, { payload: unknown; title?: string }> }).messages;
      expect(messages['order.placed'].title).toBe('OrderPlaced');
      expect(messages['order.placed'].payload).toEqual({ $ref: '#/components/schemas/OrderPlaced' });
      const schemas = (document.components as { schemas: Record<string, { properties: object }> }).schemas;
      expect(Object.keys(schemas.OrderPlaced.properties).sort()).toEqual(['item', 'orderId', 'quantity']);
      // The pattern channel lists the events it matches.
      expect(Object.keys(channels['pattern.order.__'].messages).sort()).toEqual(['order.placed', 'order.reservation-failed', 'order.reserved']);
    } finally {
      await running.app.close();
    }
  });

  it('takes a schema given on @Event, and class-validator metadata of a class without @Event', async () => {
    const app = await createApp({ providers: [Billing] });
    try {
      const document = await generateAsyncApi(app.app, { info: { title: 'Billing', version: '0.1.0' } });
      expect(await parseErrors(document)).toEqual([]);
      const messages = (document.components as { messages: Record<string, { payload: unknown; description?: string }> }).messages;
      expect(messages['invoice.sent']).toEqual(
        expect.objectContaining({ payload: expect.objectContaining({ required: ['invoiceId'] }), description: 'An invoice left.' }),
      );
      expect(messages.CustomerRenamed.payload).toEqual({ $ref: '#/components/schemas/CustomerRenamed' });
      const operations = document.operations as Record<string, { title: string; 'x-eb-retry'?: unknown }>;
      expect(Object.keys(operations).sort()).toEqual(['Billing.archive', 'Billing.sync.CustomerRenamed', 'Billing.sync.customer.*'].map((id) => id.replace('*', '_')).sort());
      expect(operations['Billing.archive']['x-eb-retry']).toEqual({ attempts: 3 });
      expect(app.get(EventBus)).toBeDefined();
    } finally {
      await app.close();
    }
  });

  it('refuses options without info.title and info.version', async () => {
    const app = await createApp({ providers: [] });
    try {
      await expect(generateAsyncApi(app.app, { info: { title: '', version: '1' } })).rejects.toThrow(/info.title` and `info.version` are required/);
      // The parser check above can fail: a document with a dangling reference has errors.
      const document = await generateAsyncApi(app.app, { info: { title: 'Empty', version: '1' } });
      expect(await parseErrors(document)).toEqual([]);
      expect(await parseErrors({ ...document, operations: { broken: { action: 'receive', channel: { $ref: '#/channels/missing' } } } })).not.toEqual([]);
    } finally {
      await app.close();
    }
  });
});

describeNats('generateAsyncApi over NATS', () => {
  const suite = setUpNatsSuite('ops_asyncapi');

  it('documents the NATS server, the subjects and the consumer group of every handler', async () => {
    const names = suite.names();
    const app = await suite.startApp(transport(names, 'billing'), [Billing]);
    const document = await generateAsyncApi(app, { info: { title: 'Billing', version: '0.1.0' } });
    expect(await parseErrors(document)).toEqual([]);
    expect(document.servers).toEqual({ nats: { host: expect.stringMatching(/:4222$/), protocol: 'nats' } });
    const channels = document.channels as Record<string, { address: string }>;
    expect(channels['invoice.sent'].address).toBe(`${names.subjectPrefix}.invoice.sent`);
    expect(channels['pattern.customer._'].address).toBe(`${names.subjectPrefix}.customer.*`);
    const operations = document.operations as Record<string, { bindings?: unknown; 'x-eb-group'?: string }>;
    expect(operations['Billing.archive']).toEqual(expect.objectContaining({ 'x-eb-group': 'billing', bindings: { nats: { queue: 'billing', bindingVersion: '0.1.0' } } }));
  });
});
