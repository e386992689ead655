// Defect 2 (issue 11), run in a child process: a handler returning a thenable whose then() throws.
import { scenario } from './scenario-runtime.js';
import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '../../../../lib/index.js';
import { createApp } from '../../../support/create-app.js';
import { outcomeWithin } from '../../support/outcome.js';

@Injectable()
class OddListener {
  @OnEvent('odd.then-throws', { priority: 1 })
  thenThrows() {
    return {
      then() {
        throw new Error('then() exploded');
      },
    };
  }

  @OnEvent('odd.then-getter-throws', { priority: 1 })
  thenGetterThrows() {
    return {
      get then(): unknown {
        throw new Error('the then getter exploded');
      },
    };
  }
}

@Injectable()
class HealthyListener {
  readonly seen: string[] = [];
  @OnEvent('odd.*')
  handle(_payload: unknown, envelope: { name: string | symbol }) {
    this.seen.push(String(envelope.name));
  }
}

scenario(async () => {
  const app = await createApp({ providers: [OddListener, HealthyListener] }, { logger: false, shutdownTimeoutMs: 500 });
  const failures: string[] = [];
  app.bus.errors$.subscribe((f) => failures.push(`${String(f.envelope.name)} ${f.handler}`));
  const reports: Record<string, unknown> = {};
  for (const name of ['odd.then-throws', 'odd.then-getter-throws']) {
    const outcome = await outcomeWithin(app.events.publishAndWait(name), 1500);
    reports[name] = outcome.state === 'resolved' ? { handled: outcome.value.handled, failed: outcome.value.failed.map((f) => f.handler) } : outcome.state;
  }
  const drained = (await outcomeWithin(app.bus.drain(), 1500)).state;
  const closed = (await outcomeWithin(app.close(), 2000)).state;
  return { reports, drained, closed, healthySeen: app.get(HealthyListener).seen, failures };
});
