import { Injectable, Module, type OnModuleDestroy } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';

/**
 * Drains the bus before any other provider is torn down. Nest runs `onModuleDestroy` from the module
 * closest to the root outwards, and a global module (like EventBusModule) last: too late, handlers
 * would have lost their database connections. So this tiny module moves itself to the front of the
 * destroy order (lowest distance), and the bus registers its shutdown here.
 */
@Injectable()
export class ShutdownCoordinator implements OnModuleDestroy {
  private readonly tasks: (() => Promise<void>)[] = [];

  constructor(modules: ModulesContainer) {
    for (const moduleRef of modules.values()) {
      if (moduleRef.metatype === EventBusShutdownModule) moduleRef.distance = -1;
    }
  }

  register(task: () => Promise<void>): void {
    this.tasks.push(task);
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all(this.tasks.map((task) => task()));
  }
}

@Module({ providers: [ShutdownCoordinator], exports: [ShutdownCoordinator] })
export class EventBusShutdownModule {}
