import { InvalidEventError } from '../../lib/index.js';
import { findUntransportable, serializePayload } from '../../lib/transport/payload-rules.js';

describe('payload rules (what can travel through a transport)', () => {
  it.each([
    [{ items: [{ price: 1 }, { price: 2 }, { price: 3n }] }, 'payload.items[2].price', /BigInt/],
    [{ a: { b: undefined } }, 'payload.a.b', /undefined/],
    [[1, undefined], 'payload[1]', /undefined/],
    [{ run: () => 1 }, 'payload.run', /function/],
    [{ s: Symbol('x') }, 'payload.s', /symbol/],
    [Symbol('top'), 'payload', /symbol/],
    [{ 'odd key': NaN }, 'payload["odd key"]', /NaN would arrive as null/],
    [{ m: new Map() }, 'payload.m', /Map would arrive as \{\}/],
    [{ bytes: new Uint8Array(2) }, 'payload.bytes', /binary/],
    [{ [Symbol('k')]: 1 }, 'payload', /symbol-keyed/],
  ])('refuses %p at %s', (payload, path, problem) => {
    const found = findUntransportable(payload);
    expect(found?.path).toBe(path);
    expect(found?.problem).toMatch(problem);
  });

  it('names the path of a circular reference', () => {
    const order: Record<string, unknown> = { lines: [{}] };
    (order.lines as object[])[0] = { order };
    expect(findUntransportable(order)).toMatchObject({ path: 'payload.lines[0].order', problem: expect.stringMatching(/circular/) });
  });

  it('accepts plain data, shared (non-circular) references, Dates through toJSON, and no payload at all', () => {
    const shared = { sku: 'A' };
    expect(findUntransportable({ a: shared, b: shared, at: new Date(0), n: null, list: [1, 'x', true] })).toBeUndefined();
    expect(findUntransportable(undefined)).toBeUndefined();
    expect(serializePayload(undefined, 'x', 'Redis')).toBe('');
    expect(serializePayload({ at: new Date(0) }, 'x', 'Redis')).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it('throws InvalidEventError naming the event, the transport and the path', () => {
    expect(() => serializePayload({ total: 10n }, 'order.placed', 'Redis')).toThrow(InvalidEventError);
    expect(() => serializePayload({ total: 10n }, 'order.placed', 'Redis')).toThrow(
      /Cannot publish "order\.placed" through Redis: .*payload\.total cannot travel \(a BigInt/,
    );
  });
});
