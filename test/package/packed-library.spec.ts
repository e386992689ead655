/**
 * Packs the library as it would be published (`npm pack`, which builds it), installs the tarball into
 * a throwaway ES-module app and a throwaway CommonJS app, and runs one event through each.
 * The peers (@nestjs/*, rxjs, reflect-metadata) are linked from this repository's node_modules, so
 * the check needs no network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const repo = resolve(process.cwd());
const peers = ['@nestjs/common', '@nestjs/core', '@nestjs/testing', 'rxjs', 'reflect-metadata', '@nats-io/transport-node', '@nats-io/jetstream', '@nats-io/kv', 'ioredis', 'pg', 'kysely'];

const appSource = (load: string) => `
${load}
class OrderListener {
  handle(order) { console.log('Processing order #' + order.order_id + ' for ' + order.item); }
}
OnEvent('new_order')(OrderListener.prototype, 'handle', Object.getOwnPropertyDescriptor(OrderListener.prototype, 'handle'));
Injectable()(OrderListener);
class AppModule {}
Module({ imports: [EventBusModule.forRoot({ logger: false })], providers: [OrderListener] })(AppModule);
(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const report = await app.get(EventPublisher).publishAndWait('new_order', { order_id: 123, item: 'Coffee' });
  console.log('handled ' + report.handled);
  await app.close();
})().catch((error) => { console.error(error); process.exit(1); });
`;

describe('the packed library', () => {
  let work: string;
  let tarball: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'nestjs-event-bus-pack-'));
    execFileSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const packed = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (packed === undefined) throw new Error(`npm pack wrote no tarball into ${work}`);
    tarball = join(work, packed);
  }, 120_000);

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  function makeApp(name: string, packageJson: object, file: string, source: string): string {
    const dir = join(work, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
    // --legacy-peer-deps: the peers are linked below; npm must not fetch its own copies.
    execFileSync('npm', ['install', tarball, '--legacy-peer-deps', '--no-audit', '--no-fund', '--no-save', '--silent'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Linked after the install, which would prune them as extraneous.
    for (const scope of ['@nestjs', '@nats-io']) mkdirSync(join(dir, 'node_modules', scope), { recursive: true });
    for (const peer of peers) symlinkSync(join(repo, 'node_modules', peer), join(dir, 'node_modules', peer), 'dir');
    writeFileSync(join(dir, file), source);
    return execFileSync(process.execPath, [file], { cwd: dir, encoding: 'utf8' });
  }

  // These apps have no @opentelemetry/api: the bus's start-up look-up of its telemetry entry finds the
  // peer missing (a real ERR_MODULE_NOT_FOUND) and runs without telemetry.
  it('runs an event through an ES-module Nest app', () => {
    const output = makeApp(
      'esm-app',
      { name: 'esm-app', private: true, type: 'module' },
      'main.js',
      appSource(`import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventBusModule, EventPublisher, OnEvent } from 'nestjs-event-bus';`),
    );
    expect(output).toBe('Processing order #123 for Coffee\nhandled 1\n');
  }, 120_000);

  it('runs an event through a CommonJS Nest app (require of the ES module)', () => {
    const output = makeApp(
      'cjs-app',
      { name: 'cjs-app', private: true, type: 'commonjs' },
      'main.js',
      appSource(`require('reflect-metadata');
const { Injectable, Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { EventBusModule, EventPublisher, OnEvent } = require('nestjs-event-bus');`),
    );
    expect(output).toBe('Processing order #123 for Coffee\nhandled 1\n');
  }, 120_000);

  it('resolves the /testing, /nats, /redis, /asyncapi and /dashboard entry points from the exports map', () => {
    const dir = join(work, 'esm-app');
    const probe = `
import { EventRecorder, createEventTestingModule } from 'nestjs-event-bus/testing';
import { NatsJetStreamTransport, NatsHealthIndicator } from 'nestjs-event-bus/nats';
import { RedisStreamsTransport, RedisHealthIndicator } from 'nestjs-event-bus/redis';
import { generateAsyncApi } from 'nestjs-event-bus/asyncapi';
import { EventBusDashboardModule } from 'nestjs-event-bus/dashboard';
import { DeadLetters } from 'nestjs-event-bus';
console.log([EventRecorder, createEventTestingModule, NatsJetStreamTransport, NatsHealthIndicator, generateAsyncApi, EventBusDashboardModule, DeadLetters, RedisStreamsTransport, RedisHealthIndicator].map((x) => typeof x).join(','));
`;
    writeFileSync(join(dir, 'entries.js'), probe);
    expect(execFileSync(process.execPath, ['entries.js'], { cwd: dir, encoding: 'utf8' })).toBe('function,function,function,function,function,function,function,function,function\n');
  }, 120_000);

  it('resolves the /opentelemetry entry point once @opentelemetry/api is installed', () => {
    const dir = join(work, 'esm-app');
    mkdirSync(join(dir, 'node_modules', '@opentelemetry'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', '@opentelemetry/api'), join(dir, 'node_modules', '@opentelemetry/api'), 'dir');
    const probe = `
import { OpenTelemetryBusInstrumentation, SEMCONV_VERSION } from 'nestjs-event-bus/opentelemetry';
console.log(typeof OpenTelemetryBusInstrumentation + ' ' + SEMCONV_VERSION);
`;
    writeFileSync(join(dir, 'otel-entry.js'), probe);
    expect(execFileSync(process.execPath, ['otel-entry.js'], { cwd: dir, encoding: 'utf8' })).toBe('function 1.27.0\n');
  }, 120_000);

  it('with @opentelemetry/api installed (no SDK), the CommonJS app loads the telemetry entry and runs as before', () => {
    const dir = join(work, 'cjs-app');
    mkdirSync(join(dir, 'node_modules', '@opentelemetry'), { recursive: true });
    symlinkSync(join(repo, 'node_modules', '@opentelemetry/api'), join(dir, 'node_modules', '@opentelemetry/api'), 'dir');
    expect(execFileSync(process.execPath, ['main.js'], { cwd: dir, encoding: 'utf8' })).toBe('Processing order #123 for Coffee\nhandled 1\n');
    // It did load the entry: with its loading refused (a require hook: the CommonJS build loads it with
    // require), start-up fails.
    writeFileSync(
      join(dir, 'refuse-telemetry.cjs'),
      `const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const file = Module._resolveFilename(request, parent, isMain);
  if (/\\/dist\\/cjs\\/opentelemetry\\//.test(file)) throw new Error('refused to load ' + file);
  return load.apply(this, arguments);
};
`,
    );
    writeFileSync(
      join(dir, 'start-only.js'),
      `require('reflect-metadata');
const { Module } = require('@nestjs/common');
const { NestFactory } = require('@nestjs/core');
const { EventBusModule } = require('nestjs-event-bus');
class AppModule {}
Module({ imports: [EventBusModule.forRoot({ logger: false })] })(AppModule);
NestFactory.createApplicationContext(AppModule, { logger: false, abortOnError: false }).then(
  (app) => app.close(),
  (error) => { console.error(String(error)); process.exit(1); },
);
`,
    );
    expect(spawnSync(process.execPath, ['start-only.js'], { cwd: dir, encoding: 'utf8' })).toMatchObject({ status: 0, stderr: '' });
    const refused = spawnSync(process.execPath, ['--require', './refuse-telemetry.cjs', 'start-only.js'], { cwd: dir, encoding: 'utf8' });
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/refused to load \S*\/dist\/cjs\/opentelemetry\//);
  }, 120_000);

  it('resolves the /outbox entry point and its adapters, and its migration SQL', () => {
    const dir = join(work, 'esm-app');
    const probe = `
import { OutboxModule, Outbox, inbox, outboxMigrationSql, PgOutboxAdapter } from 'nestjs-event-bus/outbox';
import { TypeOrmOutboxAdapter } from 'nestjs-event-bus/outbox/typeorm';
import { KnexOutboxAdapter } from 'nestjs-event-bus/outbox/knex';
import { KyselyOutboxAdapter } from 'nestjs-event-bus/outbox/kysely';
console.log([OutboxModule, Outbox, inbox, PgOutboxAdapter, TypeOrmOutboxAdapter, KnexOutboxAdapter, KyselyOutboxAdapter].map((x) => typeof x).join(','));
console.log(outboxMigrationSql({ schema: 'shop' }).includes('CREATE TABLE IF NOT EXISTS shop.event_bus_outbox ('));
`;
    writeFileSync(join(dir, 'outbox-entries.js'), probe);
    expect(execFileSync(process.execPath, ['outbox-entries.js'], { cwd: dir, encoding: 'utf8' })).toBe(
      'function,function,function,function,function,function,function\ntrue\n',
    );
  }, 120_000);

  it('has one copy of every class per process: import and require give the same EventBusModule and EventPublisher', () => {
    const dir = join(work, 'esm-app');
    writeFileSync(
      join(dir, 'both.mjs'),
      `import { createRequire } from 'node:module';
import * as imported from 'nestjs-event-bus';
import * as importedTesting from 'nestjs-event-bus/testing';
const required = createRequire(import.meta.url)('nestjs-event-bus');
const requiredTesting = createRequire(import.meta.url)('nestjs-event-bus/testing');
console.log(imported.EventBusModule === required.EventBusModule, imported.EventPublisher === required.EventPublisher, importedTesting.EventRecorder === requiredTesting.EventRecorder);
`,
    );
    expect(execFileSync(process.execPath, ['both.mjs'], { cwd: dir, encoding: 'utf8' })).toBe('true true true\n');
  }, 120_000);

  it('ships the sources its source maps point to', () => {
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    const maps = listing.filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(100);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(readFileSync(join(unpacked, map), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const file = join(unpacked, dirname(map), sourceRoot ?? '', source);
        if (!existsSync(file)) missing.push(`${map} -> ${source}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('publint and @arethetypeswrong/cli find no problem (node10, node16 CJS and ESM, bundler)', () => {
    const publint = spawnSync(process.execPath, [join(repo, 'node_modules/publint/src/cli.js'), '--strict', tarball], { encoding: 'utf8' });
    expect(publint.stdout + publint.stderr).toContain('All good!');
    expect(publint.status).toBe(0);
    const attw = spawnSync(process.execPath, [join(repo, 'node_modules/@arethetypeswrong/cli/dist/index.js'), tarball, '--format', 'json'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(attw.stderr).toBe('');
    const report = JSON.parse(attw.stdout) as { analysis: { problems: unknown[]; entrypoints: Record<string, { resolutions: Record<string, unknown> }> } };
    expect(report.analysis.problems).toEqual([]);
    expect(attw.status).toBe(0);
    // Every entry point was analysed under every resolution mode (an entry missing here would not be a problem).
    const entrypoints = Object.keys(report.analysis.entrypoints);
    expect(entrypoints).toEqual(expect.arrayContaining(['.', './testing', './nats', './redis', './asyncapi', './dashboard', './opentelemetry', './outbox', './outbox/typeorm', './outbox/knex', './outbox/kysely']));
    for (const entry of entrypoints) expect(Object.keys(report.analysis.entrypoints[entry]!.resolutions).sort()).toEqual(['bundler', 'node10', 'node16-cjs', 'node16-esm']);
  }, 120_000);

  it('ships declarations and no test or sample files', () => {
    const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
    for (const file of ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'LICENSE', 'CHANGELOG.md', 'README.md']) {
      expect(listing).toContain(`package/${file}`);
    }
    expect(listing.some((f) => f.includes('/test/') || f.includes('sample-app') || f.includes('/bench/'))).toBe(false);
  });
});
