import { Module, type DynamicModule } from '@nestjs/common';
import { EventBusModule } from '../../lib/index.js';
import { notificationsEventBusOptions } from '../event-bus.options.js';
import type { NatsConfig, RedisConfig } from '../sample.config.js';
import { SmsGateway } from './sms-gateway.js';
import { SmsListener } from './sms.listener.js';

/**
 * A second service, with a root module of its own: no HTTP, one listener. It shares only the event map
 * (events/) with the order service, and the broker's stream at run time.
 */
@Module({})
export class NotificationsModule {
  static forRoot(broker: NatsConfig | RedisConfig): DynamicModule {
    return {
      module: NotificationsModule,
      imports: [EventBusModule.forRootAsync({ useFactory: () => notificationsEventBusOptions(broker) })],
      providers: [SmsGateway, SmsListener],
    };
  }
}
