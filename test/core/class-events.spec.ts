import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Event, OnEvent, OnEventClass } from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

@Event('order.placed')
class OrderPlaced {
  constructor(readonly orderId: number) {}
}

class ExpressOrderPlaced extends OrderPlaced {
  readonly express = true;
}

class Unnamed {
  constructor(readonly value: string) {}
}

@Injectable()
class ClassListeners {
  readonly calls: string[] = [];

  @OnEvent(OrderPlaced)
  onAnyOrder(event: OrderPlaced) {
    this.calls.push(`base:${event.constructor.name}:${event.orderId}`);
  }

  @OnEventClass(ExpressOrderPlaced)
  onExpress(event: ExpressOrderPlaced) {
    this.calls.push(`express:${event.express}`);
  }

  @OnEvent('order.placed')
  byName(event: OrderPlaced) {
    this.calls.push(`name:${event.orderId}`);
  }

  @OnEvent('order.*')
  byPattern(_: unknown, envelope: { name: string }) {
    this.calls.push(`pattern:${envelope.name}`);
  }

  @OnEvent('Unnamed')
  unnamed(event: Unnamed) {
    this.calls.push(`unnamed:${event.value}`);
  }
}

describe('class events', () => {
  it('names events from @Event, else the class name', async () => {
    app = await createApp({});
    expect(app.events.publish(new OrderPlaced(1)).name).toBe('order.placed');
    expect(app.events.publish(new Unnamed('u')).name).toBe('Unnamed');
    // @Event is not inherited: a subclass travels under its own name.
    expect(app.events.publish(new ExpressOrderPlaced(2)).name).toBe('ExpressOrderPlaced');
  });

  it('delivers a base-class event to the base handler, string handlers of its name and matching patterns', async () => {
    app = await createApp({ providers: [ClassListeners] });
    app.events.publish(new OrderPlaced(1));
    await app.bus.drain();
    expect(app.get(ClassListeners).calls.sort()).toEqual(['base:OrderPlaced:1', 'name:1', 'pattern:order.placed'].sort());
  });

  it('delivers a subclass event to both its own handler and the base-class handler', async () => {
    app = await createApp({ providers: [ClassListeners] });
    app.events.publish(new ExpressOrderPlaced(2));
    await app.bus.drain();
    expect(app.get(ClassListeners).calls.sort()).toEqual(['base:ExpressOrderPlaced:2', 'express:true'].sort());
  });

  it('class handlers match by instanceof only, never by a plain payload under the same name', async () => {
    app = await createApp({ providers: [ClassListeners] });
    app.events.publish('order.placed', { orderId: 3 });
    app.events.publish(new Unnamed('x'));
    await app.bus.drain();
    expect(app.get(ClassListeners).calls.sort()).toEqual(['name:3', 'pattern:order.placed', 'unnamed:x'].sort());
  });

  it('publishAndWait works with class events', async () => {
    app = await createApp({ providers: [ClassListeners] });
    const report = await app.events.publishAndWait(new ExpressOrderPlaced(4));
    expect(report.handled).toBe(2);
    expect(report.envelope.payload).toBeInstanceOf(ExpressOrderPlaced);
  });
});
