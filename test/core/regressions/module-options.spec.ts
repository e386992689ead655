import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBusModule, OnEvent, type EventBusModuleOptions } from '../../../lib/index.js';

// Issue 11, defect 16: module options (and named policies) are validated at start-up with the rules of
// @OnEvent's options, and the error names the option. A typical source: forRootAsync + ConfigService,
// where Number(undefined) is NaN and a value read from the environment is a string.

@Injectable()
class PolicyUser {
  @OnEvent('job', { policy: 'fast' })
  handle() {}
}

/** Start-up as a whole: the bus checks its options when it is created (compile), before init(). */
async function startWith(options: EventBusModuleOptions, async = false): Promise<unknown> {
  let moduleRef;
  try {
    moduleRef = await Test.createTestingModule({
      imports: [async ? EventBusModule.forRootAsync({ useFactory: () => options }) : EventBusModule.forRoot(options)],
      providers: [PolicyUser],
    }).compile();
  } catch (error) {
    return error;
  }
  const app = moduleRef.createNestApplication({ logger: false });
  try {
    await app.init();
  } catch (error) {
    return error;
  } finally {
    await app.close().catch(() => undefined);
  }
  return undefined;
}

const policy = (p: object) => ({ policies: { fast: p } }) as EventBusModuleOptions;
const withLogger = (o: EventBusModuleOptions): EventBusModuleOptions => ({ logger: false, ...o });

const CASES: [string, EventBusModuleOptions, RegExp][] = [
  ['retry.attempts NaN (Number(undefined))', { retry: { attempts: Number(undefined) } }, /retry\.attempts/],
  ['retry.attempts as the string "3"', { retry: { attempts: '3' as unknown as number } }, /retry\.attempts/],
  ['retry.attempts 0', { retry: { attempts: 0 } }, /retry\.attempts/],
  ['retry.backoff.initialDelayMs NaN', { retry: { attempts: 3, backoff: { initialDelayMs: NaN } } }, /initialDelayMs/],
  ['concurrency NaN', { concurrency: NaN }, /concurrency/],
  ['concurrency 0', { concurrency: 0 }, /concurrency/],
  ['concurrency -1', { concurrency: -1 }, /concurrency/],
  ['concurrency as the string "2"', { concurrency: '2' as unknown as number }, /concurrency/],
  ['shutdownTimeoutMs NaN', { shutdownTimeoutMs: NaN }, /shutdownTimeoutMs/],
  ['maxQueued NaN', { maxQueued: NaN }, /maxQueued/],
  ['maxBufferedBeforeReady as the string "10"', { maxBufferedBeforeReady: '10' as unknown as number }, /maxBufferedBeforeReady/],
  ['policies.fast.retry.attempts NaN', policy({ retry: { attempts: NaN } }), /fast/],
  ['policies.fast.concurrency 0', policy({ concurrency: 0 }), /fast/],
  ['policies.fast.concurrency NaN', policy({ concurrency: NaN }), /concurrency/],
];

describe('issue 11 defect 16: module options are validated at start-up, naming the option', () => {
  it.each(CASES)('forRoot with %s fails start-up', async (_label, options, names) => {
    const error = await startWith(withLogger({ policies: { fast: {} }, ...options }));
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(names);
  });

  it.each(CASES)('forRootAsync with %s fails start-up', async (_label, options, names) => {
    const error = await startWith(withLogger({ policies: { fast: {} }, ...options }), true);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(names);
  });
});
