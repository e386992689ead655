import type { EventEnvelope } from '../event-envelope.js';
import type { Handler, InstanceResolver } from '../handler.js';

/**
 * Instances of request-scoped, transient and durable providers: one per event and provider (the
 * handlers of one provider share a resolver), reused by retries. A build that failed is forgotten, so
 * the next retry builds again (a transient failure must not fail every retry).
 */
export class ScopedInstances {
  private readonly perEvent = new WeakMap<EventEnvelope, Map<InstanceResolver, Promise<object>>>();

  get(handler: Handler, envelope: EventEnvelope): Promise<object> {
    const resolve = handler.resolveInstance!;
    let instances = this.perEvent.get(envelope);
    if (instances === undefined) {
      instances = new Map();
      this.perEvent.set(envelope, instances);
    }
    let instance = instances.get(resolve);
    if (instance === undefined) {
      try {
        instance = resolve(envelope);
      } catch (error) {
        instance = Promise.reject(error);
      }
      const cache = instances;
      const built = instance;
      cache.set(resolve, built);
      built.catch(() => {
        if (cache.get(resolve) === built) cache.delete(resolve);
      });
    }
    return instance;
  }
}
