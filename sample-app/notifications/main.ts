import 'reflect-metadata';
import { Logger, type INestApplicationContext, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { isEntryPoint } from '../is-entry-point.js';
import { brokerConfigFromEnv, type NatsConfig, type RedisConfig } from '../sample.config.js';
import { startSampleTelemetry } from '../telemetry.js';
import { NotificationsModule } from './notifications.module.js';

export interface NotificationsOptions {
  /**
   * Default: from the environment: EVENT_TRANSPORT=redis with REDIS_URL, else NATS_URL; EVENT_STREAM and
   * SERVICE_NAME (default notifications-service).
   */
  nats?: NatsConfig | RedisConfig;
  /** Default: Nest's console logger. */
  logger?: LoggerService | false;
}

/** Starts the notifications service: a Nest application context (no HTTP) consuming from NATS or Redis. */
export async function startNotifications(options: NotificationsOptions = {}): Promise<INestApplicationContext> {
  const nats = options.nats ?? brokerConfigFromEnv(process.env, 'notifications-service');
  const app = await NestFactory.createApplicationContext(
    NotificationsModule.forRoot(nats),
    options.logger === undefined ? {} : { logger: options.logger },
  );
  // SIGTERM / SIGINT: the transport finishes the messages in hand, then the process exits 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

if (isEntryPoint(import.meta.url)) {
  const broker = brokerConfigFromEnv(process.env, 'notifications-service');
  await startSampleTelemetry(process.env, broker.group);
  await startNotifications({ nats: broker });
  const where = broker.kind === 'redis' ? `Redis Streams at ${broker.url}` : `NATS JetStream at ${broker.servers}`;
  new Logger('NotificationsService').log(`Ready: consuming from ${where}, stream ${broker.stream}, group ${broker.group}`);
}
