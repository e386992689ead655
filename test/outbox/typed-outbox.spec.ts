/**
 * The typed form: `Outbox<AppEvents, PoolClient>` rejects unknown names, wrong payloads and a wrong
 * transaction type at compile time (`npm run typecheck` checks the @ts-expect-error lines: an error
 * that no longer happens fails it). At run time the well-typed calls write rows.
 */
import type { PoolClient } from 'pg';
import { Outbox } from '../../lib/outbox/index.js';
import { describeWithPostgres, setUpPostgresSuite } from './support/pg-test-env.js';

const describePg = await describeWithPostgres();

interface OrderPlaced {
  orderId: number;
  item: string;
}

interface AppEvents {
  'order.placed': OrderPlaced;
  'order.cancelled': { orderId: number; reason?: string };
  'cache.flushed': undefined;
}

/** Compile-time checks only (never called). */
export function typeChecks(outbox: Outbox<AppEvents, PoolClient>, client: PoolClient): void {
  void outbox.publish(client, 'order.placed', { orderId: 1, item: 'coffee' });
  void outbox.publish(client, 'order.placed', { orderId: 1, item: 'coffee' }, { key: 'order-1', headers: { a: 'b' } });
  void outbox.publish(client, 'order.cancelled', { orderId: 1 });
  void outbox.publish(client, 'cache.flushed');
  // @ts-expect-error unknown event name
  void outbox.publish(client, 'order.shipped', { orderId: 1 });
  // @ts-expect-error wrong payload type
  void outbox.publish(client, 'order.placed', { orderId: '1', item: 'coffee' });
  // @ts-expect-error payload missing a field
  void outbox.publish(client, 'order.placed', { orderId: 1 });
  // @ts-expect-error payload required for this event
  void outbox.publish(client, 'order.placed');
  // @ts-expect-error not a transaction of the adapter's type
  void outbox.publish('not a client', 'order.placed', { orderId: 1, item: 'coffee' });
  // @ts-expect-error unknown option
  void outbox.publish(client, 'order.cancelled', { orderId: 1 }, { partition: 1 });
}

describePg('typed outbox', () => {
  const suite = setUpPostgresSuite('typed');

  it('writes the well-typed calls', async () => {
    const app = await suite.startApp([], { relay: false });
    const outbox: Outbox<AppEvents, PoolClient> = app.get(Outbox);
    await suite.inTransaction(async (client) => {
      await outbox.publish(client, 'order.placed', { orderId: 1, item: 'coffee' });
      await outbox.publish(client, 'cache.flushed');
    });
    const rows = await suite.rows(`SELECT name, payload FROM ${suite.schema}.event_bus_outbox ORDER BY seq`);
    expect(rows).toEqual([
      { name: 'order.placed', payload: { orderId: 1, item: 'coffee' } },
      { name: 'cache.flushed', payload: null },
    ]);
  });
});
