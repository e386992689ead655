import { Body, Controller, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { SetOutageDto } from './set-outage.dto.js';
import { Warehouse } from './warehouse.js';

/** Lets you break the warehouse on purpose, to watch retries and dead letters. */
@Controller('admin/inventory')
export class InventoryAdminController {
  constructor(private readonly warehouse: Warehouse) {}

  @Get()
  status(): { outage: boolean; stock: Record<string, number> } {
    return this.warehouse.status();
  }

  @Post('outage')
  @HttpCode(HttpStatus.OK)
  setOutage(@Body() body: SetOutageDto): { outage: boolean } {
    this.warehouse.setOutage(body.on);
    return { outage: body.on };
  }
}
