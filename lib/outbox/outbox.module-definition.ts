import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OutboxModuleOptions } from './outbox.options.js';

/** What a `forRootAsync({ useClass })` / `useExisting` options provider implements. */
export interface OutboxOptionsFactory {
  createOutboxOptions(): OutboxModuleOptions | Promise<OutboxModuleOptions>;
}

export const {
  ConfigurableModuleClass: ConfigurableOutboxModule,
  MODULE_OPTIONS_TOKEN: OUTBOX_MODULE_OPTIONS,
  OPTIONS_TYPE: OUTBOX_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OUTBOX_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OutboxModuleOptions>({ moduleName: 'Outbox' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createOutboxOptions')
  .setExtras({ global: true }, (definition, extras) => ({ ...definition, global: extras.global }))
  .build();
