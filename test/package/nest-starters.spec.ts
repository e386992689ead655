/**
 * The packed library in the apps `nest new` generates, unchanged: Nest 11 (CommonJS, moduleResolution
 * nodenext, Jest 30 + ts-jest) and Nest 12 (ES modules, TypeScript 6, Vitest 4). Each app is generated
 * by the CLI from the npm registry, installed with the tarball, and then only given source files (no
 * configuration change): a file importing every entry point (compiled by the app's `npm run build`),
 * an event handled at start-up (`node` on the app's start:prod entry), and a spec using
 * `nestjs-event-bus/testing` with its matchers, run by the app's own `npm test`.
 *
 * Slow (the registry, two CLI generations, two installs): the two apps run side by side. Nothing is
 * reused between runs: a fresh tarball, fresh apps and installs (npm's content cache only).
 * Under CI=true it never skips; locally it skips, saying why, when the registry cannot be reached.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(process.cwd());
const registryUp = spawnSync('npm', ['ping'], { encoding: 'utf8', timeout: 30_000 }).status === 0;
if (!registryUp && process.env.CI !== 'true') {
  console.warn('test/package/nest-starters.spec.ts skipped: the npm registry is unreachable (`npm ping` failed); it never skips under CI=true.');
}
const describeStarters = registryUp || process.env.CI === 'true' ? describe : describe.skip;

interface Run {
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, CI: 'true', NO_COLOR: '1' } }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(' ')} in ${cwd} failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else done({ stdout, stderr });
    });
  });
}

/** Starts the app's compiled entry with `node` (not through npm, so SIGTERM reaches it), waits for `line`. */
function startUntil(cwd: string, entry: string, line: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [entry], { cwd, env: { ...process.env, PORT: '0', PLACE_ORDER_AT_START: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`node ${entry} did not print ${line} within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (line.test(output)) {
        clearTimeout(timer);
        child.once('exit', () => done(output));
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => {
      if (!line.test(output)) {
        clearTimeout(timer);
        fail(new Error(`node ${entry} exited (${code}) before printing ${line}:\n${output}`));
      }
    });
  });
}

const entryPoints = (ext: string) => `// Every entry point of the package, compiled by the app's build (not loaded at run time: the
// optional peers of /nats, /redis, /outbox... are not installed in this app).
import { EventBusModule, EventPublisher, EventBus, OnEvent, Event, DeadLetters } from 'nestjs-event-bus';
import { EventRecorder, createEventTestingModule, eventBusMatchers } from 'nestjs-event-bus/testing';
import { NatsJetStreamTransport, NatsHealthIndicator } from 'nestjs-event-bus/nats';
import { RedisStreamsTransport, RedisHealthIndicator } from 'nestjs-event-bus/redis';
import { generateAsyncApi } from 'nestjs-event-bus/asyncapi';
import { EventBusDashboardModule } from 'nestjs-event-bus/dashboard';
import { OpenTelemetryBusInstrumentation } from 'nestjs-event-bus/opentelemetry';
import { OutboxModule, Outbox, inbox, outboxMigrationSql, PgOutboxAdapter } from 'nestjs-event-bus/outbox';
import { TypeOrmOutboxAdapter } from 'nestjs-event-bus/outbox/typeorm';
import { KnexOutboxAdapter } from 'nestjs-event-bus/outbox/knex';
import { KyselyOutboxAdapter } from 'nestjs-event-bus/outbox/kysely';
import type { OrderPlaced } from './orders${ext}';

// Typed unknown[]: the app's declaration: true would otherwise have to name every entry's types.
const everyEntryPoint: unknown[] = [
  EventBusModule, EventPublisher, EventBus, OnEvent, Event, DeadLetters,
  EventRecorder, createEventTestingModule, eventBusMatchers,
  NatsJetStreamTransport, NatsHealthIndicator, RedisStreamsTransport, RedisHealthIndicator,
  generateAsyncApi, EventBusDashboardModule, OpenTelemetryBusInstrumentation,
  OutboxModule, Outbox, inbox, outboxMigrationSql, PgOutboxAdapter,
  TypeOrmOutboxAdapter, KnexOutboxAdapter, KyselyOutboxAdapter,
];
export const entryPointCount: number = everyEntryPoint.length;
export const sql: string = outboxMigrationSql({ schema: 'shop' });
export type Placed = OrderPlaced;
`;

const orders = `import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EventPublisher, OnEvent } from 'nestjs-event-bus';

export interface OrderPlaced {
  orderId: number;
}

@Injectable()
export class OrdersListener {
  static readonly handled: number[] = [];

  @OnEvent('order.placed')
  onOrderPlaced(event: OrderPlaced): void {
    OrdersListener.handled.push(event.orderId);
    console.log('order ' + event.orderId + ' handled');
  }
}

@Injectable()
export class OrdersService implements OnApplicationBootstrap {
  constructor(private readonly publisher: EventPublisher) {}

  place(orderId: number): void {
    this.publisher.publish('order.placed', { orderId });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (process.env.PLACE_ORDER_AT_START !== '1') return;
    const report = await this.publisher.publishAndWait('order.placed', { orderId: 42 });
    console.log('start-up order: handled ' + report.handled);
  }
}
`;

const spec = (ext: string) => `import { EventBusModule } from 'nestjs-event-bus';
import { createEventTestingModule, eventBusMatchers, EventRecorder } from 'nestjs-event-bus/testing';
import { OrdersListener, OrdersService } from './orders${ext}';

expect.extend(eventBusMatchers);

describe('orders', () => {
  it('publishes order.placed, which the listener handles', async () => {
    const { moduleRef, recorder, close } = await createEventTestingModule({
      imports: [EventBusModule.forRoot()],
      providers: [OrdersListener, OrdersService],
    });
    expect(recorder).toBeInstanceOf(EventRecorder);
    moduleRef.get(OrdersService).place(7);
    await recorder.settle();
    // The matcher's types are the testing entry's business (Jest's global namespace); here: it runs.
    (expect(recorder) as any).toHavePublished('order.placed', { orderId: 7 });
    (expect(recorder) as any).not.toHavePublished('order.cancelled');
    expect(recorder.count('order.placed')).toBe(1);
    expect(OrdersListener.handled).toEqual([7]);
    await close();
  });
});
`;

interface Starter {
  generated: Run;
  installed: Run;
  built: Run;
  started: string;
  tested: Run;
}

describeStarters('the packed library in the apps `nest new` generates', () => {
  let work: string;
  const starters = new Map<number, Promise<Starter>>();

  async function starter(nest: number, tarball: string): Promise<Starter> {
    const dir = join(work, `nest${nest}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const generated = await run('npx', ['-y', `@nestjs/cli@${nest}`, 'new', 'app', '--skip-git', '--skip-install', '--package-manager', 'npm'], dir, 180_000);
    const app = join(dir, 'app');
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { type?: string; scripts: Record<string, string> };
    // The CLI's ES-module template (Nest 12) imports with .js; the CommonJS one (Jest without a
    // module mapper) without.
    const ext = pkg.type === 'module' ? '.js' : '';
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball], app, 300_000);
    writeFileSync(join(app, 'src/orders.ts'), orders);
    writeFileSync(join(app, 'src/entry-points.ts'), entryPoints(ext));
    writeFileSync(join(app, 'src/orders.spec.ts'), spec(ext));
    const moduleFile = join(app, 'src/app.module.ts');
    const module = readFileSync(moduleFile, 'utf8');
    if (!module.includes('providers: [AppService]')) throw new Error(`the generated ${moduleFile} changed shape:\n${module}`);
    writeFileSync(
      moduleFile,
      `import { EventBusModule } from 'nestjs-event-bus';\nimport { OrdersListener, OrdersService } from './orders${ext}';\n` +
        module
          .replace(/imports: \[/, 'imports: [\n    EventBusModule.forRoot(),')
          .replace('providers: [AppService]', 'providers: [AppService, OrdersListener, OrdersService]'),
    );
    const built = await run('npm', ['run', 'build'], app, 180_000);
    const entry = pkg.scripts['start:prod']!.replace(/^node /, '');
    const started = await startUntil(app, entry, /start-up order: handled \d+/, 60_000);
    const tested = await run('npm', ['test'], app, 180_000);
    return { generated, installed, built, started, tested };
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'nestjs-event-bus-starters-'));
    await run('npm', ['pack', '--pack-destination', work, '--silent'], repo, 180_000);
    const packed = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (packed === undefined) throw new Error(`npm pack wrote no tarball into ${work}`);
    const tarball = join(work, packed);
    for (const nest of [11, 12]) {
      const promise = starter(nest, tarball);
      promise.catch(() => undefined); // awaited (and reported) by its test
      starters.set(nest, promise);
    }
  }, 200_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it.each([
    [11, /Tests:\s+\d+ passed, \d+ total/],
    [12, /Tests\s+\d+ passed \(\d+\)/],
  ])('Nest %i: compiles every entry point, handles an event at start-up, passes its own npm test with nestjs-event-bus/testing', async (nest, testsLine) => {
    const result = await starters.get(nest as number)!;
    expect(result.installed.stderr).not.toMatch(/EBADENGINE.*nestjs-event-bus|ERESOLVE/);
    expect(result.started).toMatch(/order 42 handled/);
    expect(result.started).toMatch(/start-up order: handled 1/);
    const output = result.tested.stdout + result.tested.stderr;
    expect(output).toMatch(testsLine);
    expect(output).toMatch(/orders\.spec\.ts/);
  }, 480_000);
});

