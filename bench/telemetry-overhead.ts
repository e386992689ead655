/**
 * What telemetry costs on publish → handler (in-process, one synchronous @OnEvent handler), in one
 * process, repeats interleaved:
 *   off       EventBusModule.forRoot({ telemetry: false }): nothing loaded
 *   no-sdk    the default with @opentelemetry/api installed and no provider registered (the target: ≤ 5% over off)
 *   traced    tracer provider (SimpleSpanProcessor + InMemorySpanExporter), AsyncLocalStorage context manager,
 *             W3C propagator, and a meter provider: every span and metric recorded
 *
 *   npm run bench:telemetry [-- --events=100000 --repeats=7]
 */
import 'reflect-metadata';
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { EventBus, EventBusModule, EventPublisher, OnEvent } from '../lib/index.js';
import { elapsedNs, nowNs, quiesce, stats } from './harness.js';
import { bootNest, listenerProviders } from './systems/nest-helpers.js';

class NoTimerReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function arg(name: string, fallback: number): number {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`));
  return found === undefined ? fallback : Number(found.slice(name.length + 3));
}

const EVENTS = arg('events', 100_000);
const REPEATS = arg('repeats', 7);

let handled = 0;
let target = 0;
let done: (() => void) | undefined;
const onEvent = () => {
  if (++handled === target) done!();
};

async function boot(telemetry: boolean) {
  const providers = listenerProviders({ names: ['order.created'], perName: 1, kind: 'sync', onEvent }, (event) => OnEvent(event));
  const app = await bootNest([EventBusModule.forRoot({ logger: false, telemetry })], providers);
  return { app, publisher: app.get(EventPublisher), bus: app.get(EventBus) };
}

/**
 * CPU ns per event (user + system time of this process): publish EVENTS in a loop, until the handler ran
 * for the last one. CPU time rather than wall time: on a shared, overloaded machine the wall clock mostly
 * measures how long the process waited for a core.
 */
async function measure(publisher: EventPublisher): Promise<{ cpu: number; wall: number }> {
  handled = 0;
  target = EVENTS;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const payload = { id: 1 };
  const cpuStart = process.cpuUsage();
  const start = nowNs();
  for (let i = 0; i < EVENTS; i++) publisher.publish('order.created', payload);
  await finished;
  const wall = elapsedNs(start) / EVENTS;
  const cpu = process.cpuUsage(cpuStart);
  return { cpu: ((cpu.user + cpu.system) * 1000) / EVENTS, wall };
}

/**
 * The SDK's InMemorySpanExporter acknowledges each export with a setTimeout; `--exporter=collect` uses
 * an exporter that keeps the spans the same way and acknowledges at once (isolates the SDK's span cost).
 */
class CollectingExporter extends InMemorySpanExporter {
  override export(spans: Parameters<InMemorySpanExporter['export']>[0], done: Parameters<InMemorySpanExporter['export']>[1]): void {
    this.getFinishedSpans().push(...spans);
    done({ code: 0 });
  }
}
const EXPORTER = process.argv.find((a) => a.startsWith('--exporter='))?.slice('--exporter='.length) ?? 'in-memory';
const exporter = EXPORTER === 'collect' ? new CollectingExporter() : new InMemorySpanExporter();
const tracerProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();
const meterProvider = new MeterProvider({ readers: [new NoTimerReader()] });

function registerSdk(): void {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
}

function unregisterSdk(): void {
  trace.disable();
  propagation.disable();
  context.disable();
  metrics.disable();
}

async function main(): Promise<void> {
  const off = await boot(false);
  const noSdk = await boot(true);
  // The meter provider is read when the bus is built: the traced app is built with the SDK registered.
  registerSdk();
  const traced = await boot(true);
  unregisterSdk();

  const samples: Record<'off' | 'no-sdk' | 'traced', number[]> = { off: [], 'no-sdk': [], traced: [] };
  const wallSamples: Record<'off' | 'no-sdk' | 'traced', number[]> = { off: [], 'no-sdk': [], traced: [] };
  const systems = (
    [
      ['off', off],
      ['no-sdk', noSdk],
      ['traced', traced],
    ] as const
  ).filter(([label]) => label !== 'traced' || !process.argv.includes('--no-traced'));
  for (let r = -1; r < REPEATS; r++) {
    // The machine is shared: rotate the order so no system always runs after the traced one's garbage.
    for (let k = 0; k < systems.length; k++) {
      const [label, system] = systems[(k + Math.max(0, r)) % systems.length];
      if (label === 'traced') registerSdk();
      quiesce();
      const { cpu, wall } = await measure(system.publisher);
      if (label === 'traced') {
        await tracerProvider.forceFlush();
        if (exporter.getFinishedSpans().length < 2 * EVENTS) throw new Error('traced run exported fewer spans than expected');
        exporter.reset();
        unregisterSdk();
      }
      if (r >= 0) {
        samples[label].push(cpu);
        wallSamples[label].push(wall);
      }
    }
  }
  for (const system of [off, noSdk, traced]) await system.app.close();

  const median = (label: keyof typeof samples) => stats(samples[label]).median;
  const row = (label: keyof typeof samples) => {
    const s = stats(samples[label]);
    const ratio = label === 'off' ? '' : `${((s.median / median('off') - 1) * 100).toFixed(1)}%`;
    const w = stats(wallSamples[label]);
    return `| ${label} | ${s.median.toFixed(0)} | ${s.min.toFixed(0)}–${s.max.toFixed(0)} | ${ratio} | ${w.median.toFixed(0)} (${w.min.toFixed(0)}–${w.max.toFixed(0)}) |`;
  };
  console.log(`publish → sync handler, ${EVENTS.toLocaleString('en-US')} events × ${REPEATS} repeats (median, min–max), traced with the ${EXPORTER} exporter`);
  console.log('| telemetry | CPU ns/event, median | min–max | vs off | wall ns/event, median (min–max) |');
  console.log('|---|---|---|---|---|');
  for (const label of ['off', 'no-sdk', 'traced'] as const) if (samples[label].length !== 0) console.log(row(label));
  const overhead = median('no-sdk') / median('off') - 1;
  console.log(`no provider registered vs telemetry off (CPU time): ${(overhead * 100).toFixed(1)}% -> ${overhead <= 0.05 ? 'PASS' : 'MISS'} (target ≤ 5%)`);
}

await main();
