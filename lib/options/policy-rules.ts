import type { HandlerPolicy } from '../interfaces/handler-options.interface.js';

/**
 * The rules a handler policy must follow, wherever it is given: `@OnEvent` options, `on()` options,
 * module defaults and named policies. Each check returns what is wrong, naming the option by `path`,
 * or nothing; callers wrap the problems in their own error type with their own context.
 */
export function policyProblems(policy: HandlerPolicy, path: string): string[] {
  const problems: string[] = [];
  const at = (name: string) => (path === '' ? name : `${path}.${name}`);
  if (policy.retry !== undefined) problems.push(...retryProblems(policy.retry, at('retry')));
  if (policy.concurrency !== undefined && !isCount(policy.concurrency, 1)) {
    problems.push(`${at('concurrency')} must be a whole number >= 1 (or Infinity for no limit), got ${show(policy.concurrency)}`);
  }
  if (policy.priority !== undefined && !(typeof policy.priority === 'number' && Number.isFinite(policy.priority))) {
    problems.push(`${at('priority')} must be a finite number, got ${show(policy.priority)}`);
  }
  return problems;
}

function retryProblems(retry: unknown, path: string): string[] {
  if (typeof retry !== 'object' || retry === null) return [`${path} must be an object like { attempts: 3 }, got ${show(retry)}`];
  const { attempts, backoff } = retry as { attempts?: unknown; backoff?: unknown };
  const problems: string[] = [];
  if (!(typeof attempts === 'number' && Number.isInteger(attempts) && attempts >= 1)) {
    problems.push(`${path}.attempts must be a whole number >= 1 (it counts the first try), got ${show(attempts)}`);
  }
  if (backoff === undefined) return problems;
  if (typeof backoff !== 'object' || backoff === null) {
    problems.push(`${path}.backoff must be an object like { initialDelayMs: 100 }, got ${show(backoff)}`);
    return problems;
  }
  const { initialDelayMs, factor, maxDelayMs, jitter } = backoff as Record<string, unknown>;
  if (!isDelay(initialDelayMs)) problems.push(`${path}.backoff.initialDelayMs must be a number of ms >= 0, got ${show(initialDelayMs)}`);
  if (factor !== undefined && !(typeof factor === 'number' && Number.isFinite(factor) && factor >= 1)) {
    problems.push(`${path}.backoff.factor must be a number >= 1, got ${show(factor)}`);
  }
  if (maxDelayMs !== undefined && !isDelay(maxDelayMs)) problems.push(`${path}.backoff.maxDelayMs must be a number of ms >= 0, got ${show(maxDelayMs)}`);
  if (jitter !== undefined && typeof jitter !== 'boolean') problems.push(`${path}.backoff.jitter must be true or false, got ${show(jitter)}`);
  return problems;
}

/** A whole number >= min, or Infinity. */
export function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && (value === Infinity || (Number.isInteger(value) && value >= min));
}

/** A duration in ms: >= 0, Infinity allowed where a timeout may be unbounded. */
export function isDelay(value: unknown): value is number {
  return typeof value === 'number' && !Number.isNaN(value) && value >= 0;
}

/** A value as the user wrote it, for error messages: strings quoted, so `"3"` is told from `3`. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol' || typeof value === 'bigint') return value.toString();
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}
