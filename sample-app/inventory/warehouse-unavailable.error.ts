/** A transient failure: worth retrying, unlike an item out of stock. */
export class WarehouseUnavailableError extends Error {
  constructor() {
    super('Warehouse unavailable: inventory outage is on (POST /admin/inventory/outage {"on": false} ends it).');
    this.name = 'WarehouseUnavailableError';
  }
}
