import 'reflect-metadata';
import { WarehouseUnavailableError } from '../../sample-app/inventory/warehouse-unavailable.error.js';
import { Warehouse } from '../../sample-app/inventory/warehouse.js';
import { sampleConfigFromEnv } from '../../sample-app/sample.config.js';

describe('sample Warehouse', () => {
  const warehouse = () => new Warehouse({ ...sampleConfigFromEnv({}), initialStock: { Tea: 5 } });

  it('takes stock once per order: a retried reservation answers the first outcome again', () => {
    const tea = warehouse();

    expect(tea.reserve(1, 'Tea', 2)).toEqual({ reserved: true, remaining: 3 });
    expect(tea.reserve(1, 'Tea', 2)).toEqual({ reserved: true, remaining: 3 });
    expect(tea.reserve(2, 'Tea', 4)).toEqual({ reserved: false, reason: 'Only 3 Tea in stock, 4 ordered.' });
    expect(tea.status().stock).toEqual({ Tea: 3 });
  });

  it('fails every reservation during an outage, and records nothing', () => {
    const tea = warehouse();
    tea.setOutage(true);

    expect(() => tea.reserve(1, 'Tea', 1)).toThrow(WarehouseUnavailableError);
    tea.setOutage(false);
    expect(tea.reserve(1, 'Tea', 1)).toEqual({ reserved: true, remaining: 4 });
  });
});
