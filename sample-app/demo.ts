import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus, EventPublisher } from '../lib/index.js';
import { AppModule } from './app.module.js';
import type { SampleEvents } from './events/sample-events.js';
import { isEntryPoint } from './is-entry-point.js';
import { sampleConfigFromEnv, type SampleConfig } from './sample.config.js';

/** The library's first example, run through the service's own AppModule (no HTTP server needed). */
export async function runDemo(logger?: LoggerService, config: SampleConfig = sampleConfigFromEnv()): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config), logger ? { logger } : {});
  const events: EventPublisher<SampleEvents> = app.get(EventPublisher);
  const bus = app.get(EventBus);

  const published = [
    events.publish('new_order', { order_id: 123, item: 'Coffee' }), // prints: Processing order #123 for Coffee
    events.publish('order_shipped', { order_id: 124 }), //             prints: Order #124 has been shipped.
  ];

  if (config.transport.kind !== 'in-process') {
    // EVENT_TRANSPORT=nats or redis: drain() waits only until the server has the events; the handlers run when this
    // service's consumer group gets them back. (Another running orders-service instance may take them.)
    await Promise.all(
      published.map(({ id, name }) =>
        bus.waitFor(name, { filter: (envelope) => envelope.id === id, timeoutMs: 30_000 }),
      ),
    );
  }
  // publish() returns before any handler runs: wait for them before closing.
  await bus.drain();
  await app.close();
}

if (isEntryPoint(import.meta.url)) await runDemo();
