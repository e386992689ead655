import 'reflect-metadata';
import { runDemo } from '../../sample-app/demo.js';
import { LogRecorder } from './log-recorder.js';

describe('sample demo (the seed example)', () => {
  it('prints "Processing order #123 for Coffee" and "Order #124 has been shipped.", then closes', async () => {
    const logs = new LogRecorder();

    await runDemo(logs);

    const orderListener = logs.lines.filter((line) => line.context === 'OrderListener').map((line) => line.message);
    expect(orderListener).toEqual(['Processing order #123 for Coffee', 'Order #124 has been shipped.']);
    expect(logs.messages('error')).toEqual([]);
    expect(logs.messages('warn')).toEqual([]);
  });
});
