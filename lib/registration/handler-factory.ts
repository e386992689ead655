import { InvalidHandlerError } from '../errors.js';
import { Handler, type HandlerInvoker, type InstanceResolver } from '../handler.js';
import type { EventBusModuleOptions } from '../interfaces/event-bus-options.interface.js';
import type { HandlerOptions, HandlerPolicy } from '../interfaces/handler-options.interface.js';

/**
 * Builds Handlers with their policies resolved: options given on the registration win over the named
 * policy (`@OnEvent(e, { policy })`), which wins over the module defaults. Module options and
 * policies were validated at start-up (validateModuleOptions), registration options by their decorator.
 */
export class HandlerFactory {
  private sequence = 0;
  private readonly moduleDefaults: HandlerPolicy;

  constructor(private readonly options: EventBusModuleOptions) {
    this.moduleDefaults = { retry: options.retry, concurrency: options.concurrency };
  }

  create(
    label: string,
    target: object,
    invoke: HandlerInvoker,
    instance: object | undefined,
    resolveInstance: InstanceResolver | undefined,
    options: HandlerOptions,
  ): Handler {
    return new Handler(label, target, invoke, instance, resolveInstance, options, this.defaultsFor(label, options), this.sequence++);
  }

  private defaultsFor(label: string, options: HandlerOptions): HandlerPolicy {
    if (options.policy === undefined) return this.moduleDefaults;
    const policy = this.options.policies?.[options.policy];
    if (policy === undefined) {
      const known = Object.keys(this.options.policies ?? {});
      throw new InvalidHandlerError(
        `${label} uses the policy "${options.policy}", which EventBusModule's \`policies\` option does not define ` +
          `(${known.length === 0 ? 'it defines none' : `it defines: ${known.join(', ')}`}).`,
      );
    }
    return {
      retry: policy.retry ?? this.options.retry,
      concurrency: policy.concurrency ?? this.options.concurrency,
      priority: policy.priority,
    };
  }
}
