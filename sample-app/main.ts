import 'reflect-metadata';
import { Logger, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { isEntryPoint } from './is-entry-point.js';
import { readInteger, sampleConfigFromEnv, type SampleConfig } from './sample.config.js';

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
  const module = AppModule.forRoot(options.config ?? sampleConfigFromEnv());
  const app = await NestFactory.create(module, options.logger === undefined ? {} : { logger: options.logger });
  // SIGTERM / SIGINT run app.close(): in-flight handlers finish before their dependencies are torn down.
  app.enableShutdownHooks();
  await app.listen(options.port ?? readInteger(process.env, 'PORT', 3000, 0));
  return app;
}

if (isEntryPoint(import.meta.url)) {
  const app = await bootstrap();
  const { port } = app.getHttpServer().address() as { port: number };
  new Logger('OrderService').log(`Listening on http://localhost:${port} (try GET /events/handlers)`);
}
