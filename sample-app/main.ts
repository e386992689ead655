import 'reflect-metadata';
import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { isEntryPoint } from './is-entry-point.js';
import { readInteger, sampleConfigFromEnv, type SampleConfig, type TransportConfig } from './sample.config.js';
import { loadHttpServerSpans, startSampleTelemetry } from './telemetry.js';

export interface BootstrapOptions {
  /** Default: PORT, else 3000. 0 picks a free port. */
  port?: number;
  /** Default: from the environment (see sample.config.ts). */
  config?: SampleConfig;
  /** Default: Nest's console logger. */
  logger?: LoggerService | false;
}

/** Starts the order service over HTTP. The e2e tests start it the same way. */
export async function bootstrap(options: BootstrapOptions = {}): Promise<INestApplication> {
  const config = options.config ?? sampleConfigFromEnv();
  const module = AppModule.forRoot(config);
  const app = await NestFactory.create(module, options.logger === undefined ? {} : { logger: options.logger });
  const httpSpans = await loadHttpServerSpans(config.telemetry);
  if (httpSpans !== undefined) app.use(httpSpans);
  // SIGTERM / SIGINT run app.close(): in-flight handlers finish (and a transport hands back what it has not
  // handled) before their dependencies are torn down; then the process exits 0 (1 if closing failed).
  app.enableShutdownHooks([], { useProcessExit: true });
  await app.listen(options.port ?? readInteger(process.env, 'PORT', 3000, 0));
  return app;
}

/** One line for the start-up log: where this service's events travel. */
export function describeTransport(transport: TransportConfig): string {
  if (transport.kind === 'nats') return `Events travel through NATS JetStream at ${transport.servers}: stream ${transport.stream}, group ${transport.group}`;
  if (transport.kind === 'redis') return `Events travel through Redis Streams at ${transport.url}: stream ${transport.stream}, group ${transport.group}`;
  return 'Events stay in this process (EVENT_TRANSPORT=nats or redis sends them through NATS JetStream or Redis Streams)';
}

if (isEntryPoint(import.meta.url)) {
  const config = sampleConfigFromEnv();
  await startSampleTelemetry(process.env, process.env.SERVICE_NAME ?? 'orders-service');
  const app = await bootstrap({ config });
  const { port } = app.getHttpServer().address() as { port: number };
  const logger = new Logger('OrderService');
  logger.log(describeTransport(config.transport));
  logger.log(`Listening on http://localhost:${port} (try GET /events/handlers)`);
}
