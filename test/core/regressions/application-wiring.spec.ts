import 'reflect-metadata';
import { Global, Injectable, Module, type INestApplicationContext, type OnModuleInit } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBus, EventBusModule, EventPublisher, OnEvent, type DeliveryReport } from '../../../lib/index.js';
import { outcomeWithin } from '../support/outcome.js';

// Issue 11, defects 5 and 17: how the bus is wired into a Nest application.

let nestApp: INestApplicationContext | undefined;
afterEach(async () => {
  if (nestApp !== undefined) await outcomeWithin(nestApp.close(), 3000);
  nestApp = undefined;
});

describe('issue 11 defect 5: a @Global() module awaiting publishAndWait in onModuleInit', () => {
  @Injectable()
  class WarmUp implements OnModuleInit {
    report: DeliveryReport | undefined;
    constructor(private readonly events: EventPublisher) {}
    async onModuleInit() {
      this.report = await this.events.publishAndWait('cache.warm-up');
    }
  }

  @Global()
  @Module({ providers: [WarmUp], exports: [WarmUp] })
  class WarmUpModule {}

  @Injectable()
  class WarmUpListener {
    seen = 0;
    @OnEvent('cache.warm-up')
    onWarmUp() {
      this.seen++;
    }
  }

  @Module({ providers: [WarmUpListener] })
  class FeatureModule {}

  @Module({ imports: [WarmUpModule] })
  class HostModule {}

  // Nest initialises modules in import order among equals: the global module before EventBusModule.
  it.each([
    ['imported before EventBusModule', () => [WarmUpModule, EventBusModule.forRoot({ logger: false, shutdownTimeoutMs: 200 }), FeatureModule]],
    ['imported by a feature module listed first', () => [FeatureModule, HostModule, EventBusModule.forRoot({ logger: false, shutdownTimeoutMs: 200 })]],
  ])('app.init() does not deadlock (%s); the handler of the feature module handled the event', async (_case, imports) => {
    const moduleRef = await Test.createTestingModule({ imports: imports() }).compile();
    nestApp = moduleRef.createNestApplication({ logger: false });
    const init = await outcomeWithin(nestApp.init(), 3000);
    expect(init.state).toBe('resolved');
    expect(nestApp.get(WarmUp).report?.handled).toBe(1);
    expect(nestApp.get(WarmUpListener).seen).toBe(1);
  });
});

describe('issue 11 defect 17: EventBusModule.forRoot() imported in two feature modules', () => {
  @Injectable()
  class OrderListener {
    calls = 0;
    constructor(readonly bus: EventBus) {}
    @OnEvent('order.placed')
    onPlaced() {
      this.calls++;
    }
  }

  @Module({ imports: [EventBusModule.forRoot({ logger: false })], providers: [OrderListener] })
  class OrdersModule {}

  @Injectable()
  class BillingService {
    constructor(
      readonly bus: EventBus,
      readonly events: EventPublisher,
    ) {}
  }

  @Module({ imports: [EventBusModule.forRoot({ logger: false })], providers: [BillingService] })
  class BillingModule {}

  @Module({ imports: [OrdersModule, BillingModule] })
  class AppModule {}

  it('is one bus per application (or start-up fails saying to import it once in the root module)', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    nestApp = moduleRef.createNestApplication({ logger: false });
    const init = await outcomeWithin(nestApp.init(), 3000);
    if (init.state === 'rejected') {
      expect(String(init.error)).toMatch(/once|root module/i);
      return;
    }
    expect(init.state).toBe('resolved');
    // What each feature module got injected.
    const orders = nestApp.get(OrderListener, { strict: false });
    const billing = nestApp.get(BillingService, { strict: false });
    expect(billing.bus === orders.bus).toBe(true);
    expect(orders.bus.handlers().filter((h) => h.event === 'order.placed')).toHaveLength(1);
    await billing.events.publishAndWait('order.placed');
    expect(orders.calls).toBe(1);
  });
});
