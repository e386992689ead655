import { InvalidModuleOptionsError } from '../errors.js';
import { selectorProblem } from '../event-name.js';
import type { EventBusModuleOptions } from '../interfaces/event-bus-options.interface.js';
import { isCount, isDelay, policyProblems, show } from './policy-rules.js';

const KNOWN_OPTIONS = new Set([
  'retry', 'concurrency', 'policies', 'shutdownTimeoutMs', 'maxBufferedBeforeReady', 'maxQueued', 'asyncContext',
  'transport', 'travel', 'serializablePayloads', 'logger', 'telemetry',
]);

/**
 * Checks module options at start-up with the same rules as `@OnEvent`'s, so a configuration mistake
 * (`Number(undefined)`, a string from the environment, concurrency 0) fails loudly, naming the option,
 * instead of retrying forever or being ignored. Throws InvalidModuleOptionsError listing every problem.
 */
export function validateModuleOptions(options: EventBusModuleOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidModuleOptionsError([`the options must be an object, got ${show(options)}`]);
  const problems: string[] = [];
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) problems.push(`unknown option "${key}" (known: ${[...KNOWN_OPTIONS].join(', ')})`);
  }
  problems.push(...policyProblems({ retry: options.retry, concurrency: options.concurrency }, ''));
  if (options.policies !== undefined) {
    if (typeof options.policies !== 'object' || options.policies === null) {
      problems.push(`policies must be an object of named policies, got ${show(options.policies)}`);
    } else {
      for (const [name, policy] of Object.entries(options.policies)) {
        if (typeof policy !== 'object' || policy === null) problems.push(`policies.${name} must be an object, got ${show(policy)}`);
        else problems.push(...policyProblems(policy, `policies.${name}`));
      }
    }
  }
  if (options.shutdownTimeoutMs !== undefined && !isDelay(options.shutdownTimeoutMs)) {
    problems.push(`shutdownTimeoutMs must be a number of ms >= 0 (Infinity waits as long as it takes), got ${show(options.shutdownTimeoutMs)}`);
  }
  if (options.maxBufferedBeforeReady !== undefined && !isCount(options.maxBufferedBeforeReady, 0)) {
    problems.push(`maxBufferedBeforeReady must be a whole number >= 0 (or Infinity), got ${show(options.maxBufferedBeforeReady)}`);
  }
  if (options.maxQueued !== undefined && !isCount(options.maxQueued, 1)) {
    problems.push(`maxQueued must be a whole number >= 1 (or Infinity), got ${show(options.maxQueued)}`);
  }
  if (options.serializablePayloads !== undefined && typeof options.serializablePayloads !== 'boolean') {
    problems.push(`serializablePayloads must be true or false, got ${show(options.serializablePayloads)}`);
  }
  if (options.asyncContext !== undefined && typeof options.asyncContext !== 'boolean') {
    problems.push(`asyncContext must be true or false, got ${show(options.asyncContext)}`);
  }
  if (options.telemetry !== undefined && typeof options.telemetry !== 'boolean') {
    problems.push(`telemetry must be true or false (left out: on when @opentelemetry/api is installed), got ${show(options.telemetry)}`);
  }
  if (options.logger !== undefined && options.logger !== false && !hasMethods(options.logger, ['log', 'error', 'warn'])) {
    problems.push('logger must be a LoggerService (with log, error and warn methods) or false');
  }
  if (options.transport !== undefined && !hasMethods(options.transport, ['prepare', 'send', 'start', 'close'])) {
    problems.push('transport must be an EventTransport (e.g. new NatsJetStreamTransport({...})) with prepare, send, start and close');
  }
  if (options.travel !== undefined) {
    if (!Array.isArray(options.travel)) problems.push('travel must be an array of event names, patterns or event classes');
    else if (options.transport === undefined) problems.push('travel lists the events that go through the transport, but no transport is set');
    else {
      options.travel.forEach((selector: unknown, i: number) => {
        const problem = selectorProblem(selector);
        if (problem !== undefined) problems.push(`travel[${i}]: ${problem}`);
      });
    }
  }
  if (problems.length !== 0) throw new InvalidModuleOptionsError(problems);
}

function hasMethods(value: unknown, methods: string[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
}
