import type { AsyncApiOptions } from '../lib/asyncapi/index.js';

const orderId = { type: 'integer', minimum: 1 };

/**
 * What the order service's AsyncAPI document says beyond what the code tells: who publishes what, and
 * the payload schemas of events published by name (OrderPlaced's comes from its class-validator decorators).
 */
export const sampleAsyncApiOptions: AsyncApiOptions = {
  info: { title: 'Order service', version: '1.0.0', description: 'The sample application of nestjs-event-bus.' },
  publishers: {
    'order.placed': ['OrdersService.place'],
    order_shipped: ['OrdersService.ship'],
    'order.reserved': ['InventoryListener.reserveStock'],
    'order.reservation-failed': ['InventoryListener.reserveStock'],
  },
  schemas: {
    new_order: { type: 'object', required: ['order_id', 'item'], properties: { order_id: orderId, item: { type: 'string' } } },
    order_shipped: { type: 'object', required: ['order_id'], properties: { order_id: orderId } },
    'order.reserved': {
      type: 'object',
      required: ['orderId', 'item', 'quantity', 'remaining'],
      properties: { orderId, item: { type: 'string' }, quantity: { type: 'integer', minimum: 1 }, remaining: { type: 'integer', minimum: 0 } },
    },
    'order.reservation-failed': { type: 'object', required: ['orderId', 'reason'], properties: { orderId, reason: { type: 'string' } } },
  },
};
