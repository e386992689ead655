import 'reflect-metadata';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { ContextIdFactory, type ContextId, type ContextIdStrategy, type HostComponentInfo } from '@nestjs/core';
import { EVENT_ENVELOPE, OnEvent, type EventEnvelope } from '../../lib/index.js';
import { createApp, type TestApp } from '../support/create-app.js';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const instances: RequestScopedListener[] = [];
const seen: { instance: RequestScopedListener; envelopeId: string; injectedId: string | undefined; attempt: number }[] = [];

@Injectable({ scope: Scope.REQUEST })
class PerEventState {
  readonly createdAt = instances.length;
}

/** Static itself, but its dependency tree is request-scoped: it must get a fresh instance per event. */
@Injectable()
class RequestScopedListener {
  constructor(
    readonly state: PerEventState,
    @Inject(EVENT_ENVELOPE) readonly envelope: EventEnvelope,
  ) {
    instances.push(this);
  }

  @OnEvent('scoped')
  first(_: unknown, envelope: EventEnvelope) {
    seen.push({ instance: this, envelopeId: envelope.id, injectedId: this.envelope?.id, attempt: envelope.attempt });
  }

  @OnEvent('scoped', { retry: { attempts: 2 } })
  second(_: unknown, envelope: EventEnvelope) {
    seen.push({ instance: this, envelopeId: envelope.id, injectedId: this.envelope?.id, attempt: envelope.attempt });
    if (envelope.attempt === 1) throw new Error('retry me on the same instance');
  }
}

describe('request-scoped handlers', () => {
  beforeEach(() => {
    instances.length = 0;
    seen.length = 0;
  });

  it('get one fresh instance per event (shared by its handlers and reused by retries) with the envelope injected', async () => {
    app = await createApp({ providers: [RequestScopedListener, PerEventState] });
    const a = app.events.publish('scoped');
    const b = app.events.publish('scoped');
    await app.bus.drain();
    expect(instances).toHaveLength(2);
    const forA = seen.filter((s) => s.envelopeId === a.id);
    const forB = seen.filter((s) => s.envelopeId === b.id);
    expect(forA).toHaveLength(3); // first, second (attempt 1), second (attempt 2)
    expect(new Set(forA.map((s) => s.instance)).size).toBe(1);
    expect(new Set(forB.map((s) => s.instance)).size).toBe(1);
    expect(forA[0].instance).not.toBe(forB[0].instance);
    expect(forA.every((s) => s.injectedId === a.id)).toBe(true);
    expect(forB.every((s) => s.injectedId === b.id)).toBe(true);
    expect(app.bus.handlers().map((h) => h.handler)).toEqual(['RequestScopedListener.first', 'RequestScopedListener.second']);
  });

  it('transient providers get a fresh instance per event too', async () => {
    const handledBy: object[] = [];
    @Injectable({ scope: Scope.TRANSIENT })
    class TransientListener {
      @OnEvent('transient.event')
      handle() {
        handledBy.push(this);
      }
    }
    app = await createApp({ providers: [TransientListener] });
    app.events.publish('transient.event');
    app.events.publish('transient.event');
    await app.bus.drain();
    expect(handledBy).toHaveLength(2);
    expect(handledBy[0]).not.toBe(handledBy[1]);
    expect(handledBy[0]).toBeInstanceOf(TransientListener);
  });

  it('isolate a failure to resolve the instance like any handler failure', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class Broken {
      constructor() {
        throw new Error('cannot build');
      }
      @OnEvent('broken')
      handle() {}
    }
    app = await createApp({ providers: [Broken] });
    const report = await app.events.publishAndWait('broken');
    expect(report.failed).toEqual([{ handler: 'Broken.handle', error: expect.objectContaining({ message: 'cannot build' }) }]);
  });

  it('durable providers follow the ContextIdStrategy: one instance per tenant', async () => {
    const tenants = new Map<string, ContextId>();
    class TenantStrategy implements ContextIdStrategy {
      attach(contextId: ContextId, request: { envelope?: EventEnvelope }) {
        const tenant = request.envelope?.headers.tenant ?? 'none';
        let tenantId = tenants.get(tenant);
        if (tenantId === undefined) {
          tenantId = ContextIdFactory.create();
          tenants.set(tenant, tenantId);
        }
        return {
          resolve: (info: HostComponentInfo) => (info.isTreeDurable ? tenantId! : contextId),
          payload: request,
        };
      }
    }
    const built: object[] = [];
    const handledBy: object[] = [];
    @Injectable({ scope: Scope.REQUEST, durable: true })
    class TenantListener {
      constructor() {
        built.push(this);
      }
      @OnEvent('tenant.event')
      handle() {
        handledBy.push(this);
      }
    }
    ContextIdFactory.apply(new TenantStrategy());
    try {
      app = await createApp({ providers: [TenantListener] });
      app.events.publish('tenant.event', null, { headers: { tenant: 'a' } });
      app.events.publish('tenant.event', null, { headers: { tenant: 'a' } });
      app.events.publish('tenant.event', null, { headers: { tenant: 'b' } });
      await app.bus.drain();
      expect(built).toHaveLength(2);
      expect(handledBy[0]).toBe(handledBy[1]);
      expect(handledBy[2]).not.toBe(handledBy[0]);
    } finally {
      ContextIdFactory.apply({ attach: (contextId: ContextId) => () => contextId });
    }
  });
});
