import { Body, Controller, Get, HttpCode, HttpStatus, Param, ParseIntPipe, Post } from '@nestjs/common';
import type { Order, OrderStatus } from './order.js';
import { OrdersService } from './orders.service.js';
import { PlaceOrderDto } from './place-order.dto.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** Answers at once: the listeners of OrderPlaced run after the response. */
  @Post()
  async place(@Body() body: PlaceOrderDto): Promise<{ id: number; status: OrderStatus }> {
    const order = await this.orders.place(body.item, body.quantity);
    // The status it was recorded with: its handlers may already have moved it on (GET /orders/:id shows that).
    return { id: order.id, status: 'placed' };
  }

  @Get()
  list(): Order[] {
    return this.orders.list();
  }

  @Get(':id')
  get(@Param('id', ParseIntPipe) id: number): Order {
    return this.orders.get(id);
  }

  /** 202: shipping is requested; GET /orders/:id shows 'shipped' once the event is handled. */
  @Post(':id/ship')
  @HttpCode(HttpStatus.ACCEPTED)
  ship(@Param('id', ParseIntPipe) id: number): { id: number; eventId: string } {
    return { id, eventId: this.orders.ship(id).id };
  }
}
