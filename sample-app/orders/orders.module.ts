import { Module } from '@nestjs/common';
import { OrderListener } from './order.listener.js';
import { OrderStatusListener } from './order-status.listener.js';
import { OrderStore } from './order.store.js';
import { OrdersController } from './orders.controller.js';
import { OrdersService } from './orders.service.js';

@Module({
  controllers: [OrdersController],
  providers: [OrdersService, OrderStore, OrderListener, OrderStatusListener],
})
export class OrdersModule {}
