import type { INestApplication, INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import type { TestingModule, TestingModuleBuilder } from '@nestjs/testing';
import { EventBus } from '../event-bus.js';
import type { UntypedEvents } from '../event-map.js';
import { EventPublisher } from '../event-publisher.js';
import { EventRecorder } from './event-recorder.js';

export interface EventTestingModuleOptions {
  /** Adjusts the builder before `compile()`: `(b) => b.overrideProvider(Mailer).useValue(mailer)`. */
  override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Creates an HTTP application (`createNestApplication()`, for supertest) instead of a bare context. */
  http?: boolean;
  /** Default timeout of the recorder's `waitFor()` and `settle()`, in ms (default 2000). */
  timeoutMs?: number;
}

/** An initialised testing module with a recorder that saw every event since start-up. */
export interface EventTestingModule<TEvents extends object = UntypedEvents, TApp extends INestApplicationContext = INestApplicationContext> {
  moduleRef: TestingModule;
  /** The initialised application (HTTP with `http: true`), or the module itself. */
  app: TApp;
  recorder: EventRecorder<TEvents>;
  bus: EventBus;
  publisher: EventPublisher<TEvents>;
  /** Stops recording and closes the application (the bus drains first, as in production). */
  close(): Promise<void>;
}

/**
 * `Test.createTestingModule(metadata)`, compiled, with an EventRecorder attached before `init()` (so
 * events published in constructors and `onModuleInit` are recorded too), then initialised: handlers
 * are registered at start-up, so a module that is only compiled would never call them.
 */
export async function createEventTestingModule<TEvents extends object = UntypedEvents>(
  metadata: ModuleMetadata,
  options: EventTestingModuleOptions & { http: true },
): Promise<EventTestingModule<TEvents, INestApplication>>;
export async function createEventTestingModule<TEvents extends object = UntypedEvents>(
  metadata: ModuleMetadata,
  options?: EventTestingModuleOptions,
): Promise<EventTestingModule<TEvents>>;
export async function createEventTestingModule<TEvents extends object = UntypedEvents>(
  metadata: ModuleMetadata,
  options: EventTestingModuleOptions = {},
): Promise<EventTestingModule<TEvents, INestApplicationContext>> {
  // Loaded on demand: the rest of this entry point works without @nestjs/testing installed.
  const { Test } = await import('@nestjs/testing');
  let builder = Test.createTestingModule(metadata);
  if (options.override !== undefined) builder = options.override(builder);
  const moduleRef = await builder.compile();
  const recorder = EventRecorder.attach<TEvents>(moduleRef, { timeoutMs: options.timeoutMs });
  let app: INestApplicationContext;
  try {
    app = options.http ? await moduleRef.createNestApplication().init() : await moduleRef.init();
  } catch (error) {
    recorder.detach();
    await moduleRef.close().catch(() => undefined);
    throw error;
  }
  return {
    moduleRef,
    app,
    recorder,
    bus: recorder.bus,
    publisher: moduleRef.get<EventPublisher<TEvents>>(EventPublisher, { strict: false }),
    close: async () => {
      recorder.detach();
      await app.close();
    },
  };
}
