import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Injectable, Module, type INestApplication, type Provider } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Event, EventBus, EventBusModule, EventPublisher, InvalidEventError, type EventEnvelope, type EventTransport } from '../../../lib/index.js';
import { deferred } from '../../support/create-app.js';
import type { TransportFixture, TransportNamespace } from './transport-fixture.js';

const register = fileURLToPath(new URL('../../nats/support/register-ts.mjs', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/conformance-worker.ts', import.meta.url));
const KEY = 'conformance-signing-key-0123456789';

@Event('conformance.order')
export class ConformanceOrder {
  constructor(
    readonly id: number,
    readonly lines: number[],
  ) {}
  get total(): number {
    return this.lines.reduce((a, b) => a + b, 0);
  }
}

/** Collects what the handlers of one app received, resolving waits without sleeps. */
class Seen {
  readonly envelopes: EventEnvelope[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  add(envelope: EventEnvelope): void {
    this.envelopes.push(envelope);
    this.waiters = this.waiters.filter((w) => (this.envelopes.length >= w.n ? (w.resolve(), false) : true));
  }
  reach(n: number): Promise<void> {
    if (this.envelopes.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
  get ids(): string[] {
    return this.envelopes.map((e) => e.id);
  }
}

async function eventually(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 25));
}

/**
 * The transport contract (API.md §6), written once and run against every transport: delivery and fan-out,
 * competing consumers, acknowledgement only after success, a consumer process killed mid-handling,
 * redelivery with backoff, dead letters with reasons, poison and forged messages, a broker restart,
 * graceful close, payload refusal at publish, class-event revival.
 */
export async function runConformanceSuite(fixture: TransportFixture): Promise<void> {
  const describeIt = await fixture.describe();

  describeIt(`transport conformance: ${fixture.name}`, () => {
    let ns: TransportNamespace;
    const apps: INestApplication[] = [];
    const cleanups: (() => Promise<void>)[] = [];

    beforeEach(() => {
      ns = fixture.namespace(expect.getState().currentTestName?.replace(/\W+/g, '-').slice(-20) ?? 'test');
    });
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close().catch(() => undefined);
      for (const c of cleanups.splice(0)) await c();
      await ns.dispose();
    });

    /** An app in its own group with `handlers` (each listener gets the event's envelope). */
    async function start(
      transport: EventTransport,
      handlers: Record<string, (payload: unknown, envelope: EventEnvelope, events: EventPublisher) => unknown> = {},
      providers: Provider[] = [],
      busOptions: { shutdownTimeoutMs?: number } = {},
    ) {
      @Module({ imports: [EventBusModule.forRoot({ logger: process.env.CONFORMANCE_LOG === '1' ? undefined : false, transport, ...busOptions })], providers })
      class ConformanceModule {}
      const moduleRef = await Test.createTestingModule({ imports: [ConformanceModule] }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      const bus = app.get(EventBus);
      const events = app.get(EventPublisher);
      for (const [label, fn] of Object.entries(handlers)) {
        const [event, name] = label.split(' ');
        const listener = (payload: unknown, envelope: EventEnvelope) => fn(payload, envelope, events);
        // The listener's name is the handler's name in reports and dead letters.
        Object.defineProperty(listener, 'name', { value: name ?? 'handler' });
        bus.on(event, listener);
      }
      await app.init();
      apps.push(app);
      return { app, events: app.get(EventPublisher), bus };
    }

    it('delivers to every group (fan-out), each event once per group, competing within a group', async () => {
      const a1 = new Seen();
      const a2 = new Seen();
      const b = new Seen();
      const secondGotOne = deferred();
      let firstHeld = false;
      // The first instance of group A holds one event until the second instance handled one: proof
      // that a group's events are shared among its instances, without timing assumptions.
      await start(ns.transport('group-a'), {
        'conformance.job first': async (_p, e) => {
          a1.add(e);
          if (!firstHeld) {
            firstHeld = true;
            await secondGotOne.promise;
          }
        },
      });
      await start(ns.transport('group-a'), { 'conformance.job second': (_p, e) => (a2.add(e), secondGotOne.resolve()) });
      await start(ns.transport('group-b'), { 'conformance.job only': (_p, e) => b.add(e) });
      const publisher = await start(ns.transport('publisher'));
      const published: string[] = [];
      for (let i = 0; i < 20; i++) published.push((await publisher.events.publishAndWait('conformance.job', { i })).envelope.id);
      await b.reach(20);
      await eventually(() => a1.envelopes.length + a2.envelopes.length >= 20);
      expect([...a1.ids, ...a2.ids].sort()).toEqual([...published].sort());
      expect(b.ids.sort()).toEqual([...published].sort());
      expect(a2.envelopes.length).toBeGreaterThan(0);
      expect(a1.envelopes.length).toBeGreaterThan(0);
    });

    it('acknowledges only after success: a failed handling is delivered again (with backoff), then succeeds; nothing dead-lettered', async () => {
      const seen = new Seen();
      let calls = 0;
      await start(ns.transport('workers', { backoffMs: 100 }), {
        'conformance.job flaky': (_p, e) => {
          seen.add(e);
          if (++calls === 1) throw new Error('first delivery fails');
        },
      });
      const publisher = await start(ns.transport('publisher'));
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { n: 1 });
      await seen.reach(2);
      expect(seen.ids).toEqual([envelope.id, envelope.id]);
      expect(await ns.deadLetters()).toEqual([]);
    });

    it('dead-letters a handler that keeps failing, with reason, handler and deliveries; the healthy handler of the group ran once', async () => {
      let healthy = 0;
      let broken = 0;
      await start(ns.transport('workers', { maxDeliveries: 2 }), {
        'conformance.job healthy': () => void healthy++,
        'conformance.job broken': () => {
          broken++;
          throw new Error('always broken');
        },
      });
      const publisher = await start(ns.transport('publisher'));
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { n: 2 });
      await eventually(async () => (await ns.deadLetters()).length === 1);
      expect(await ns.deadLetters()).toEqual([{ reason: 'handler-failed', handler: 'broken', deliveries: 2, eventId: envelope.id, group: 'workers' }]);
      expect(broken).toBe(2);
      expect(healthy).toBe(1);
    });

    if (fixture.supports.durableGroups) it('does not dead-letter a message released by repeated graceful restarts: only failures consume maxDeliveries', async () => {
      const options = { maxDeliveries: 2, fastTakeover: true, closeTimeoutMs: 100 };
      const publisher = await start(ns.transport('publisher'));
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { held: true });
      // Four instances in a row take the message and are closed while handling it: four deliveries,
      // twice maxDeliveries, each one released.
      for (let i = 0; i < 4; i++) {
        const started = deferred();
        const holder = await start(
          ns.transport('reports', options),
          { 'conformance.job holder': () => (started.resolve(), new Promise<void>(() => undefined)) },
          [],
          { shutdownTimeoutMs: 300 },
        );
        await started.promise;
        await holder.app.close();
      }
      const survivor = new Seen();
      await start(ns.transport('reports', options), { 'conformance.job survivor': (_p, e) => survivor.add(e) });
      await survivor.reach(1);
      expect(survivor.ids).toEqual([envelope.id]);
      expect(await ns.deadLetters()).toEqual([]);
    }, 60_000);

    if (fixture.supports.durableGroups) it('does not run a handler that already succeeded again when another instance gets the redelivery', async () => {
      const calls = { ledger: 0, mailer: 0 };
      const failed = deferred();
      const done = deferred();
      const handlers = {
        'conformance.job ledger': () => void calls.ledger++,
        'conformance.job mailer': () => {
          if (++calls.mailer === 1) {
            failed.resolve();
            throw new Error('the mail server is down');
          }
          done.resolve();
        },
      };
      const options = { backoffMs: 300, fastTakeover: true };
      const first = await start(ns.transport('billing', options), handlers);
      const publisher = await start(ns.transport('publisher'));
      await publisher.events.publishAndWait('conformance.job', { invoice: 7 });
      await failed.promise;
      // The first instance goes away before its redelivery (backoff): the second one gets it.
      await first.app.close();
      expect(calls).toEqual({ ledger: 1, mailer: 1 });
      await start(ns.transport('billing', options), handlers);
      await done.promise;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(calls).toEqual({ ledger: 1, mailer: 2 });
      expect(await ns.deadLetters()).toEqual([]);
    }, 30_000);

    it('dead-letters garbage, unsigned and forged messages with their reason, and keeps consuming', async () => {
      const seen = new Seen();
      await start(ns.transport('workers', { signingKey: KEY }), { 'conformance.job h': (_p, e) => seen.add(e) });
      const publisher = await start(ns.transport('publisher', { signingKey: KEY }));
      await ns.injectRaw('garbage');
      await ns.injectRaw('unsigned');
      await ns.injectRaw('forged');
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { good: true });
      await seen.reach(1);
      // Every group dead-letters them once (the publisher's group reads the stream too).
      const workers = async () => (await ns.deadLetters()).filter((d) => d.group === 'workers');
      await eventually(async () => (await workers()).length === 3);
      const reasons = (await workers()).map((d) => d.reason).sort();
      // Garbage is 'malformed', or 'unsigned' where the engine checks the signature first (NATS).
      expect([['forged', 'malformed', 'unsigned'], ['forged', 'unsigned', 'unsigned']]).toContainEqual(reasons);
      expect(seen.ids).toEqual([envelope.id]);
    });

    it('refuses at publish what cannot travel (BigInt, circular), naming the path', async () => {
      const { events } = await start(ns.transport('publisher'));
      const order: Record<string, unknown> = { lines: [{ price: 1 }] };
      (order.lines as object[]).push({ order });
      expect(() => events.publish('conformance.job', { items: [{ price: 1 }, { price: 2n }] })).toThrow(InvalidEventError);
      expect(() => events.publish('conformance.job', { items: [{ price: 1 }, { price: 2n }] })).toThrow(/payload\.items\[1\]\.price/);
      expect(() => events.publish('conformance.job', order)).toThrow(/payload\.lines\[1\]\.order.*circular/);
      await expect(events.publishAndWait('conformance.job', { at: { n: undefined } })).rejects.toThrow(/payload\.at\.n/);
    });

    it('revives class events as instances in the consuming process', async () => {
      @Injectable()
      class OrderHandler {
        readonly received: unknown[] = [];
        readonly seen = new Seen();
      }
      const handler = new OrderHandler();
      const { bus } = await start(ns.transport('workers'), {}, []);
      bus.on(ConformanceOrder, (order: ConformanceOrder, e: EventEnvelope) => {
        handler.received.push(order);
        handler.seen.add(e);
      });
      const publisher = await start(ns.transport('publisher'));
      await publisher.events.publishAndWait(new ConformanceOrder(7, [2, 3]));
      await handler.seen.reach(1);
      expect(handler.received[0]).toBeInstanceOf(ConformanceOrder);
      expect((handler.received[0] as ConformanceOrder).total).toBe(5);
    });

    it('closes gracefully: a handler running at close finishes, and its message is not delivered again', async () => {
      const started = deferred();
      const release = deferred();
      let runs = 0;
      const first = await start(ns.transport('workers'), {
        'conformance.job slow': async () => {
          runs++;
          started.resolve();
          await release.promise;
        },
      });
      const publisher = await start(ns.transport('publisher'));
      await publisher.events.publishAndWait('conformance.job', { slow: true });
      await started.promise;
      const closing = first.app.close();
      release.resolve();
      await closing;
      // A later instance of the group gets the next event, and not the one finished at close.
      const later = new Seen();
      await start(ns.transport('workers'), { 'conformance.job later': (_p, e) => later.add(e) });
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { marker: true });
      await later.reach(1);
      expect(later.ids).toEqual([envelope.id]);
      expect(runs).toBe(1);
    });

    if (fixture.supports.childProcesses) it('loses no follow-up of an event chain when the consumer is SIGKILLed right after its handlers return', async () => {
      const triggers = 30;
      const followUps = new Set<string>();
      await start(ns.transport('collector'), { 'conformance.followup collect': (p) => void followUps.add(`${(p as { trigger: number }).trigger}.${(p as { k: number }).k}`) });
      const child = spawn(process.execPath, ['--import', register, worker], {
        env: { ...process.env, ...ns.workerEnv('workers', { fastTakeover: true }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
      const ready = deferred();
      const killed = deferred();
      const exited = once(child, 'exit');
      void exited.then(() => ready.reject(new Error('worker exited early')));
      ready.promise.catch(() => undefined);
      let handled = 0;
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'READY') ready.resolve();
        // Killed right after a handler returned, its follow-ups possibly still on their way to the broker.
        else if (line.startsWith('HANDLED ') && ++handled === 5) {
          child.kill('SIGKILL');
          killed.resolve();
        }
      });
      await ready.promise;
      const publisher = await start(ns.transport('publisher'));
      for (let trigger = 0; trigger < triggers; trigger++) await publisher.events.publishAndWait('conformance.trigger', { trigger });
      await killed.promise;
      await exited;
      // The survivor of the group takes over what the killed worker did not acknowledge, and handles the rest.
      await start(ns.transport('workers', { fastTakeover: true }), {
        'conformance.trigger chain': (p, _e, events) => {
          for (let k = 0; k < 3; k++) events.publish('conformance.followup', { trigger: (p as { trigger: number }).trigger, k, pad: 'x'.repeat(2048) });
        },
      });
      await eventually(() => followUps.size === triggers * 3);
      expect(followUps.size).toBe(triggers * 3);
    }, 90_000);

    if (fixture.supports.childProcesses) it('loses nothing when a consumer process is SIGKILLed mid-handling: another instance handles it', async () => {
      const child = spawn(process.execPath, ['--import', register, worker], {
        env: { ...process.env, ...ns.workerEnv('workers', { fastTakeover: true }) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      cleanups.push(async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const ready = deferred();
      const handling = deferred<string>();
      const exited = once(child, 'exit');
      void exited.then(([code]) => {
        ready.reject(new Error(`worker exited (${String(code)}): ${stderr}`));
        handling.reject(new Error(`worker exited (${String(code)}): ${stderr}`));
      });
      // Whichever of these the test does not await must not become an unhandled rejection.
      ready.promise.catch(() => undefined);
      handling.promise.catch(() => undefined);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line === 'READY') ready.resolve();
        else if (line.startsWith('HANDLING ')) handling.resolve(line.slice(9));
      });
      await ready.promise;
      const publisher = await start(ns.transport('publisher'));
      const { envelope } = await publisher.events.publishAndWait('conformance.job', { crash: true });
      expect(await handling.promise).toBe(envelope.id);
      child.kill('SIGKILL');
      await exited;
      const survivor = new Seen();
      await start(ns.transport('workers', { fastTakeover: true }), { 'conformance.job survivor': (_p, e) => survivor.add(e) });
      await survivor.reach(1);
      expect(survivor.ids).toEqual([envelope.id]);
    }, 90_000);

    if (fixture.supports.brokerRestart) it('survives a broker restart: events accepted before and after are all handled', async () => {
      const broker = await fixture.privateBroker!();
      cleanups.push(() => broker.dispose());
      const seen = new Seen();
      await start(ns.transport('workers', { url: broker.url }), { 'conformance.job h': (_p, e) => seen.add(e) });
      const publisher = await start(ns.transport('publisher', { url: broker.url }));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await publisher.events.publishAndWait('conformance.job', { i })).envelope.id);
      await seen.reach(5);
      await broker.restart();
      for (let i = 5; i < 10; i++) ids.push((await publisher.events.publishAndWait('conformance.job', { i })).envelope.id);
      await eventually(() => new Set(seen.ids).size >= 10);
      expect([...new Set(seen.ids)].sort()).toEqual([...ids].sort());
    }, 60_000);
  });
}
