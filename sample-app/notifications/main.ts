import 'reflect-metadata';
import { Logger, type INestApplicationContext, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { isEntryPoint } from '../is-entry-point.js';
import { natsConfigFromEnv, type NatsConfig } from '../sample.config.js';
import { startSampleTelemetry } from '../telemetry.js';
import { NotificationsModule } from './notifications.module.js';

export interface NotificationsOptions {
  /** Default: NATS_URL, EVENT_STREAM and SERVICE_NAME (default notifications-service) from the environment. */
  nats?: NatsConfig;
  /** Default: Nest's console logger. */
  logger?: LoggerService | false;
}

/** Starts the notifications service: a Nest application context (no HTTP) consuming from NATS. */
export async function startNotifications(options: NotificationsOptions = {}): Promise<INestApplicationContext> {
  const nats = options.nats ?? natsConfigFromEnv(process.env, 'notifications-service');
  const app = await NestFactory.createApplicationContext(
    NotificationsModule.forRoot(nats),
    options.logger === undefined ? {} : { logger: options.logger },
  );
  // SIGTERM / SIGINT: the transport finishes the messages in hand, then the process exits 0.
  app.enableShutdownHooks([], { useProcessExit: true });
  return app;
}

if (isEntryPoint(import.meta.url)) {
  const nats = natsConfigFromEnv(process.env, 'notifications-service');
  await startSampleTelemetry(process.env, nats.group);
  await startNotifications({ nats });
  new Logger('NotificationsService').log(
    `Ready: consuming from NATS JetStream at ${nats.servers}, stream ${nats.stream}, group ${nats.group}`,
  );
}
