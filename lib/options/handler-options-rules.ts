import type { HandlerOptions } from '../interfaces/handler-options.interface.js';
import { policyProblems, show } from './policy-rules.js';

/** What is wrong with the options of one `@OnEvent` or `on()` registration (empty when nothing). */
export function handlerOptionsProblems(options: HandlerOptions): string[] {
  if (typeof options !== 'object' || options === null) return [`the options must be an object, got ${show(options)}`];
  const problems = policyProblems(options, '');
  if (options.policy !== undefined && (typeof options.policy !== 'string' || options.policy.length === 0)) {
    problems.push("policy must be the name of an entry of EventBusModule's policies option");
  }
  if (options.filter !== undefined && typeof options.filter !== 'function') {
    problems.push('filter must be a function (payload, envelope) => boolean');
  }
  return problems;
}
