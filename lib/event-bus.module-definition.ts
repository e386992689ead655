import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { EventBusModuleOptions } from './interfaces/event-bus-options.interface.js';

/** What a `forRootAsync({ useClass })` / `useExisting` options provider implements. */
export interface EventBusOptionsFactory {
  createEventBusOptions(): EventBusModuleOptions | Promise<EventBusModuleOptions>;
}

/** `forRoot` / `forRootAsync` with Nest's conventions; `global` (default true) as an extra. */
export const {
  ConfigurableModuleClass: ConfigurableEventBusModule,
  MODULE_OPTIONS_TOKEN,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<EventBusModuleOptions>({ moduleName: 'EventBus' })
  .setClassMethodName('forRoot')
  // useClass / useExisting factories implement `createEventBusOptions()` (EventBusOptionsFactory).
  .setFactoryMethodName('createEventBusOptions')
  .setExtras({ global: true }, (definition, extras) => ({ ...definition, global: extras.global }))
  .build();
