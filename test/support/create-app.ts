import 'reflect-metadata';
import type { INestApplicationContext, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBus, EventBusModule, EventPublisher, type EventBusModuleOptions } from '../../lib/index.js';

export interface TestApp {
  app: INestApplicationContext;
  bus: EventBus;
  events: EventPublisher;
  get<T>(type: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

/** An initialised Nest application context with the event bus and the given providers. */
export async function createApp(
  metadata: { providers?: Provider[]; controllers?: Type<unknown>[]; imports?: ModuleMetadata['imports'] },
  options: EventBusModuleOptions = { logger: false },
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [EventBusModule.forRoot(options), ...(metadata.imports ?? [])],
    providers: metadata.providers ?? [],
    controllers: metadata.controllers ?? [],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    bus: app.get(EventBus),
    events: app.get(EventPublisher),
    get: <T>(type: Type<T> | string | symbol) => app.get<T>(type as Type<T>, { strict: false }),
    close: () => app.close(),
  };
}

/** A promise with its resolve function, to let a test decide when an async handler finishes. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Collects log lines for assertions on what the bus logs. */
export class RecordingLogger {
  readonly lines: { level: string; message: string }[] = [];
  log(message: unknown) {
    this.lines.push({ level: 'log', message: String(message) });
  }
  warn(message: unknown) {
    this.lines.push({ level: 'warn', message: String(message) });
  }
  error(message: unknown) {
    this.lines.push({ level: 'error', message: String(message) });
  }
  debug(message: unknown) {
    this.lines.push({ level: 'debug', message: String(message) });
  }
  verbose(message: unknown) {
    this.lines.push({ level: 'verbose', message: String(message) });
  }
  messages(level?: string): string[] {
    return this.lines.filter((l) => level === undefined || l.level === level).map((l) => l.message);
  }
}
