import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import pg from 'pg';
import { Outbox } from '../../../lib/outbox/index.js';
import type { OrderPlaced } from '../../events/order-placed.event.js';
import type { SampleEvents } from '../../events/sample-events.js';
import { SAMPLE_CONFIG, type SampleConfig } from '../../sample.config.js';
import type { OrderWriter, PlacedEvent } from '../order-writer.js';

/**
 * DATABASE_URL: the order row and its OrderPlaced event are written in one transaction; the outbox
 * relay publishes the event after commit, never if the INSERT fails (e.g. a duplicate id).
 */
@Injectable()
export class PostgresOrderWriter implements OrderWriter, OnModuleDestroy {
  private readonly pool: pg.Pool;
  private readonly table: string;

  constructor(
    @Inject(SAMPLE_CONFIG) config: SampleConfig,
    private readonly outbox: Outbox<SampleEvents, pg.PoolClient>,
  ) {
    this.pool = new pg.Pool({ connectionString: config.database!.url, max: 5 });
    this.table = `${config.database!.schema}.orders`;
  }

  async lastOrderId(): Promise<number> {
    await this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.table} (id integer PRIMARY KEY, item text NOT NULL, quantity integer NOT NULL, placed_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await this.pool.query(`SELECT coalesce(max(id), 0)::int AS id FROM ${this.table}`);
    return rows[0].id as number;
  }

  async place(event: OrderPlaced): Promise<PlacedEvent> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO ${this.table} (id, item, quantity) VALUES ($1, $2, $3)`, [event.orderId, event.item, event.quantity]);
      // Keyed by order: the events of one order leave in the order they were written.
      const { id } = await this.outbox.publish(client, event, { key: `order-${event.orderId}` });
      await client.query('COMMIT');
      return { id, correlationId: id, occurredAt: new Date() };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool.end();
  }
}
