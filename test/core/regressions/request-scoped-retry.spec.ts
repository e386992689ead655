import 'reflect-metadata';
import { Inject, Injectable, Scope } from '@nestjs/common';
import { OnEvent } from '../../../lib/index.js';
import { createApp, type TestApp } from '../../support/create-app.js';

// Issue 11, defect 8: a transient failure building a request-scoped provider is a failed attempt like
// any other: the retry builds it again (a successfully built instance is what retries reuse).

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const builds = { count: 0 };

const FLAKY_CONNECTION = Symbol('FLAKY_CONNECTION');

@Injectable({ scope: Scope.REQUEST })
class ScopedListener {
  static handled = 0;
  constructor(@Inject(FLAKY_CONNECTION) readonly connection: { id: number }) {}

  @OnEvent('scoped.job', { retry: { attempts: 3 } })
  handle() {
    ScopedListener.handled++;
  }
}

describe('issue 11 defect 8: retries of a request-scoped handler whose instance build failed', () => {
  it('build a fresh instance: a build failing once does not fail every retry', async () => {
    builds.count = 0;
    ScopedListener.handled = 0;
    app = await createApp({
      providers: [
        ScopedListener,
        {
          provide: FLAKY_CONNECTION,
          scope: Scope.REQUEST,
          useFactory: () => {
            builds.count++;
            if (builds.count === 1) throw new Error('connection pool momentarily exhausted');
            return { id: builds.count };
          },
        },
      ],
    });
    const report = await app.events.publishAndWait('scoped.job');
    expect({ handled: report.handled, failed: report.failed.length }).toEqual({ handled: 1, failed: 0 });
    expect(ScopedListener.handled).toBe(1);
    expect(builds.count).toBe(2);
  });
});
