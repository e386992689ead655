import 'reflect-metadata';
import { InvalidEventError, InvalidHandlerError, OnEvent } from '../../../lib/index.js';
import { createApp, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 15: event names are dot-separated segments, none empty (API.md §3). Names with an
// empty segment are refused wherever a name is given, as patterns with one already are.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const EMPTY_SEGMENT_NAMES = ['order.', 'order..created', '.order', '.'];

describe('issue 11 defect 15: names with an empty segment are refused', () => {
  it.each(EMPTY_SEGMENT_NAMES)('publish(%p) throws InvalidEventError', async (name) => {
    app = await createApp({});
    expect(() => app!.events.publish(name, {})).toThrow(InvalidEventError);
  });

  it.each(EMPTY_SEGMENT_NAMES)('publishAndWait(%p) rejects with InvalidEventError', async (name) => {
    app = await createApp({});
    await expect(app.events.publishAndWait(name, {})).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('"order.*" never receives an event named "order." (nothing with an empty segment is delivered)', async () => {
    app = await createApp({});
    const seen: string[] = [];
    app.bus.on('order.*', (_payload, envelope) => void seen.push(String(envelope.name)));
    try {
      app.events.publish('order.', {});
    } catch {
      // refused: what the fix does
    }
    await app.bus.drain();
    expect(seen).toEqual([]);
  });

  it.each(EMPTY_SEGMENT_NAMES)('on(%p) and ofEvent() of it throw InvalidEventError', async (name) => {
    app = await createApp({});
    expect(() => app!.bus.on(name, () => undefined)).toThrow(InvalidEventError);
    expect(() => app!.bus.ofEvent(name)).toThrow(InvalidEventError);
  });

  it.each(EMPTY_SEGMENT_NAMES)('@OnEvent(%p) fails when the class is defined, naming class and method', (name) => {
    expect(() => {
      class Listener {
        @OnEvent(name)
        handle() {}
      }
      return Listener;
    }).toThrow(InvalidHandlerError);
    expect(() => {
      class Listener {
        @OnEvent(name)
        handle() {}
      }
      return Listener;
    }).toThrow(/Listener\.handle/);
  });
});
