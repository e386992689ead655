import { Module } from '@nestjs/common';
import { InventoryAdminController } from './inventory-admin.controller.js';
import { InventoryListener } from './inventory.listener.js';
import { Warehouse } from './warehouse.js';

@Module({
  controllers: [InventoryAdminController],
  providers: [Warehouse, InventoryListener],
})
export class InventoryModule {}
