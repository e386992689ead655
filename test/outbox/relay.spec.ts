/** The relay: shared work, per-key order, wake-up, retries, dead letters, cleanup, graceful stop. */
import { Injectable } from '@nestjs/common';
import { OnEvent, type EventEnvelope } from '../../lib/index.js';
import { Outbox, OutboxRuntime } from '../../lib/outbox/index.js';
import { deferred, describeWithPostgres, eventually, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

@Injectable()
class Recorder {
  readonly received: EventEnvelope[] = [];
  @OnEvent('job.*')
  on(_payload: unknown, envelope: EventEnvelope) {
    this.received.push(envelope);
  }
}

describePg('outbox relay', () => {
  const suite = setUpPostgresSuite('relay');
  const table = () => `${suite.schema}.event_bus_outbox`;

  async function publishMany(outbox: Outbox, count: number, name = 'job.run', key?: (i: number) => string | undefined): Promise<string[]> {
    const ids: string[] = [];
    // Several transactions of several events each.
    for (let start = 0; start < count; start += 50) {
      await suite.inTransaction(async (client) => {
        for (let i = start; i < Math.min(count, start + 50); i++) ids.push((await outbox.publish(client, name, { i }, { key: key?.(i) })).id);
      });
    }
    return ids;
  }

  it('two relays in parallel deliver each event exactly once', async () => {
    const writer = await suite.startApp([], { relay: false });
    const ids = await publishMany(writer.get(Outbox), 600);
    const a = await suite.startApp([Recorder], { relay: { batchSize: 25 } });
    const b = await suite.startApp([Recorder], { relay: { batchSize: 25 } });
    const all = () => [...a.get(Recorder).received, ...b.get(Recorder).received];
    await eventually(() => all().length >= ids.length);
    await eventually(async () => (await writer.get(Outbox).counts()).pending === 0);
    const delivered = all().map((e) => e.id);
    expect(delivered.sort()).toEqual([...ids].sort());
    expect(new Set(delivered).size).toBe(ids.length);
    // Both took part (SKIP LOCKED: neither waited for the other's claims).
    expect(a.get(Recorder).received.length).toBeGreaterThan(0);
    expect(b.get(Recorder).received.length).toBeGreaterThan(0);
  });

  it('keeps the order of events with the same key, across two relays', async () => {
    const arrivals: string[] = [];
    @Injectable()
    class OrderedRecorder {
      @OnEvent('job.keyed')
      on(_payload: unknown, envelope: EventEnvelope) {
        arrivals.push(envelope.id); // one array for both apps: the global arrival order
      }
    }
    const writer = await suite.startApp([], { relay: false });
    const ids = await publishMany(writer.get(Outbox), 300, 'job.keyed', (i) => `k${i % 3}`);
    await suite.startApp([OrderedRecorder], { relay: { batchSize: 10 } });
    await suite.startApp([OrderedRecorder], { relay: { batchSize: 10 } });
    await eventually(() => arrivals.length >= ids.length);
    expect(new Set(arrivals).size).toBe(300);
    for (const key of [0, 1, 2]) {
      const expected = ids.filter((_, i) => i % 3 === key);
      expect(arrivals.filter((id) => expected.includes(id))).toEqual(expected);
    }
  });

  it('is woken by NOTIFY at commit (no poll in the test window), and finds rows by polling with listen: false', async () => {
    const listening = await suite.startApp([Recorder], { relay: { pollIntervalMs: 3_600_000 } });
    const first = await suite.inTransaction((client) => listening.get(Outbox).publish(client, 'job.notified', 1));
    await eventually(() => listening.get(Recorder).received.some((e) => e.id === first.id));
    await listening.close();

    const polling = await suite.startApp([Recorder], { relay: { listen: false, pollIntervalMs: 50 } });
    const second = await suite.inTransaction((client) => polling.get(Outbox).publish(client, 'job.polled', 2));
    await eventually(() => polling.get(Recorder).received.some((e) => e.id === second.id));
  });

  it('marks a row the bus refuses dead at once, with the reason; redrive publishes it again once fixed', async () => {
    const app = await suite.startApp([Recorder]);
    // A row no outbox.publish() would write (a pattern as its name): the bus refuses it every time.
    await suite.pool.query(`INSERT INTO ${table()} (event_id, name, payload) VALUES ('forged-1', 'job.*', '{"n":1}')`);
    await eventually(async () => (await app.get(Outbox).counts()).dead === 1);
    const [letter] = await app.get(Outbox).deadLetters();
    expect(letter).toMatchObject({ id: 'forged-1', name: 'job.*', payload: { n: 1 }, attempts: 1 });
    expect(letter.lastError).toMatch(/pattern/);
    expect(app.get(Recorder).received).toEqual([]);

    await suite.pool.query(`UPDATE ${table()} SET name = 'job.fixed' WHERE event_id = 'forged-1'`);
    expect(await app.get(Outbox).redrive(['forged-1'])).toBe(1);
    await eventually(() => app.get(Recorder).received.length === 1);
    expect(app.get(Recorder).received[0]).toMatchObject({ id: 'forged-1', name: 'job.fixed', payload: { n: 1 } });
    expect((await app.get(Outbox).counts()).dead).toBe(0);
    expect(await app.get(Outbox).purgeDeadLetters()).toBe(0);
  });

  it('cleans up published rows and inbox records past their retention', async () => {
    const app = await suite.startApp([Recorder], { relay: { retainPublishedMs: 0, retainInboxMs: 0, cleanupIntervalMs: 0 } });
    const receipt = await suite.inTransaction((client) => app.get(Outbox).publish(client, 'job.old', 1));
    await eventually(async () => (await suite.rows(`SELECT 1 FROM ${table()} WHERE event_id = $1 AND status = 'published'`, [receipt.id])).length === 1);
    await suite.pool.query(`INSERT INTO ${suite.schema}.event_bus_inbox (event_id, handler, processed_at) VALUES ('old', 'X.y', now() - interval '1 hour')`);
    await app.get(OutboxRuntime).relay!.cleanup();
    expect(await suite.rows(`SELECT 1 FROM ${table()} WHERE event_id = $1`, [receipt.id])).toEqual([]);
    expect(await suite.rows(`SELECT 1 FROM ${suite.schema}.event_bus_inbox WHERE event_id = 'old'`)).toEqual([]);
  });

  it('on app.close() finishes the publish in flight and gives back the rest of its batch', async () => {
    const release = deferred();
    const started = deferred();
    @Injectable()
    class SlowListener {
      @OnEvent('job.slow')
      async on() {
        started.resolve();
        await release.promise;
      }
    }
    const app = await suite.startApp([SlowListener], { relay: { batchSize: 1 } });
    const outbox = app.get(Outbox);
    const first = await suite.inTransaction((client) => outbox.publish(client, 'job.slow', 1, { key: 'k' }));
    const second = await suite.inTransaction((client) => outbox.publish(client, 'job.slow', 2, { key: 'k' }));
    await started.promise;
    const closing = app.close();
    release.resolve();
    await closing;
    const rows = await suite.rows(`SELECT event_id, status, leased_by FROM ${table()} WHERE event_id = ANY($1) ORDER BY seq`, [[first.id, second.id]]);
    expect(rows).toEqual([
      { event_id: first.id, status: 'published', leased_by: null },
      { event_id: second.id, status: 'pending', leased_by: null },
    ]);
  });

  it('validates relay options at construction, naming the option', async () => {
    await expect(suite.startApp([], { relay: { batchSize: 0 } })).rejects.toThrow(/relay.batchSize` must be a positive whole number, got 0/);
    await expect(suite.startApp([], { relay: { publishTimeoutMs: 5000, leaseMs: 1000 } })).rejects.toThrow(/publishTimeoutMs \(5000\) must be less than relay.leaseMs/);
    await expect(suite.startApp([], { schema: 'Bad-Name' })).rejects.toThrow(/`schema` must be a lower-case SQL identifier/);
    await expect(suite.startApp([], { connection: 42 as any })).rejects.toThrow(/`connection` must be a pg Pool/);
  });
});
