import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBus, EventPublisher } from '../lib/index.js';
import { AppModule } from './app.module.js';
import type { SampleEvents } from './events/sample-events.js';
import { isEntryPoint } from './is-entry-point.js';
import { sampleConfigFromEnv } from './sample.config.js';

/** The library's first example, run through the service's own AppModule (no HTTP server needed). */
export async function runDemo(logger?: LoggerService): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(sampleConfigFromEnv()), logger ? { logger } : {});
  const events: EventPublisher<SampleEvents> = app.get(EventPublisher);

  events.publish('new_order', { order_id: 123, item: 'Coffee' }); // prints: Processing order #123 for Coffee
  events.publish('order_shipped', { order_id: 124 }); //             prints: Order #124 has been shipped.

  // publish() returns before any handler runs: wait for them before closing.
  await app.get(EventBus).drain();
  await app.close();
}

if (isEntryPoint(import.meta.url)) await runDemo();
