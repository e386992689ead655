import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { EventBus } from '../../lib/index.js';
import { bootstrap } from '../../sample-app/main.js';
import { sampleConfigFromEnv, type SampleConfig } from '../../sample-app/sample.config.js';
import { LogRecorder } from './log-recorder.js';

export interface RunningSampleApp {
  app: INestApplication;
  http: ReturnType<typeof request>;
  bus: EventBus;
  logs: LogRecorder;
}

/**
 * The real service, started by main.ts's bootstrap on a free port, with retries that do not wait
 * (tests synchronise on bus.drain(), never on time) and no simulated mail latency.
 */
export async function startSampleApp(overrides: Partial<SampleConfig> = {}): Promise<RunningSampleApp> {
  const logs = new LogRecorder();
  const config: SampleConfig = {
    ...sampleConfigFromEnv({}),
    retry: { attempts: 3, initialDelayMs: 0, maxDelayMs: 0 },
    emailLatencyMs: 0,
    ...overrides,
  };
  const app = await bootstrap({ port: 0, config, logger: logs });
  return { app, http: request(app.getHttpServer()), bus: app.get(EventBus), logs };
}
