// Defect 11 (issue 11), run in a child process: events$ / errors$ / deadLetters$ subscribers that throw.
import { scenario } from './scenario-runtime.js';
import 'reflect-metadata';
import { createApp } from '../../../support/create-app.js';
import { outcomeWithin } from '../../support/outcome.js';

scenario(async () => {
  const app = await createApp({}, { logger: false, shutdownTimeoutMs: 500 });
  const seen: string[] = [];
  app.bus.events$.subscribe(() => {
    throw new Error('events$ subscriber exploded');
  });
  app.bus.errors$.subscribe(() => {
    throw new Error('errors$ subscriber exploded');
  });
  app.bus.deadLetters$.subscribe(() => {
    throw new Error('deadLetters$ subscriber exploded');
  });
  app.bus.on('job', function failing() {
    throw new Error('handler failed (expected)');
  });
  app.bus.on('job', function healthy(payload: number) {
    seen.push(`healthy ${payload}`);
  });
  app.events.publish('job', 1);
  app.events.publish('job', 2);
  const drained = (await outcomeWithin(app.bus.drain(), 1500)).state;
  // A rethrow scheduled with setTimeout(0) surfaces within a few macrotasks.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  const closed = (await outcomeWithin(app.close(), 2000)).state;
  return { drained, closed, seen };
});
