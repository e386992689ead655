import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { OnEvent, type EventEnvelope } from '../../../lib/index.js';
import { EventRecorder } from '../../../lib/testing/index.js';
import { createApp, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 14: one class-matching rule everywhere, `instanceof` (API.md §2: "Class handlers
// match by instanceof only"). Handlers, on(), ofEvent(), waitFor() and the testing recorder agree, also
// for a payload whose `constructor` property does not tell its class.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

class Shipment {
  constructor(readonly id: number) {}
}
class Unrelated {}

@Injectable()
class ShipmentListener {
  readonly seen: unknown[] = [];
  @OnEvent(Shipment)
  onShipment(payload: unknown) {
    this.seen.push(payload);
  }
}

/** A Shipment (by prototype, so by instanceof) whose own `constructor` field names another class. */
function shipmentWithMisleadingConstructor(): Shipment {
  const shipment = new Shipment(1);
  Object.defineProperty(shipment, 'constructor', { value: Unrelated, enumerable: false });
  return shipment;
}

describe('issue 11 defect 14: handlers and ofEvent/waitFor match classes by one rule (instanceof)', () => {
  it('a payload that is instanceof Shipment reaches the Shipment handler, as ofEvent(Shipment) sees it', async () => {
    app = await createApp({ providers: [ShipmentListener] });
    const recorder = EventRecorder.attach(app.bus);
    const unrelatedSeen: unknown[] = [];
    app.bus.on(Unrelated, function onUnrelated(payload: unknown) {
      unrelatedSeen.push(payload);
    });
    const viaOfEvent: EventEnvelope[] = [];
    app.bus.ofEvent(Shipment).subscribe((e) => viaOfEvent.push(e));
    const shipment = shipmentWithMisleadingConstructor();
    app.events.publish('shipment.dispatched', shipment);
    await app.bus.drain();
    expect(viaOfEvent.map((e) => e.payload)).toEqual([shipment]);
    expect(recorder.payloads(Shipment)).toEqual([shipment]);
    expect({ shipmentHandler: app.get(ShipmentListener).seen, unrelatedListener: unrelatedSeen }).toEqual({
      shipmentHandler: [shipment],
      unrelatedListener: [],
    });
  });

  it('a plain object whose "constructor" field is a class is not an instance of it: no class handler runs', async () => {
    app = await createApp({ providers: [ShipmentListener] });
    const viaOfEvent: EventEnvelope[] = [];
    app.bus.ofEvent(Shipment).subscribe((e) => viaOfEvent.push(e));
    app.events.publish('shipment.forged', { constructor: Shipment, id: 2 });
    await app.bus.drain();
    expect(viaOfEvent).toEqual([]);
    expect(app.get(ShipmentListener).seen).toEqual([]);
  });
});
