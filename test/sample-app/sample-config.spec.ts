import { sampleConfigFromEnv, transportConfigFromEnv } from '../../sample-app/sample.config.js';

describe('sample configuration: EVENT_TRANSPORT', () => {
  it('keeps events in the process by default', () => {
    expect(sampleConfigFromEnv({}).transport).toEqual({ kind: 'in-process' });
    expect(sampleConfigFromEnv({ EVENT_TRANSPORT: 'in-process', NATS_URL: 'nats://elsewhere:4222' }).transport).toEqual({ kind: 'in-process' });
  });

  it('EVENT_TRANSPORT=nats: NATS_URL, EVENT_STREAM and SERVICE_NAME, with defaults', () => {
    expect(sampleConfigFromEnv({ EVENT_TRANSPORT: 'nats' }).transport).toEqual({
      kind: 'nats',
      servers: 'nats://127.0.0.1:4222',
      stream: 'sample_orders',
      group: 'orders-service',
    });
    expect(
      transportConfigFromEnv(
        { EVENT_TRANSPORT: ' nats ', NATS_URL: 'nats://nats.internal:4222', EVENT_STREAM: 'shop_events', SERVICE_NAME: 'orders-eu' },
        'orders-service',
      ),
    ).toEqual({ kind: 'nats', servers: 'nats://nats.internal:4222', stream: 'shop_events', group: 'orders-eu' });
  });

  it('EVENT_TRANSPORT=redis: REDIS_URL, EVENT_STREAM and SERVICE_NAME, with defaults', () => {
    expect(sampleConfigFromEnv({ EVENT_TRANSPORT: 'redis' }).transport).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
      stream: 'sample_orders',
      group: 'orders-service',
    });
    expect(transportConfigFromEnv({ EVENT_TRANSPORT: 'redis', REDIS_URL: 'redis://cache:6380', SERVICE_NAME: 'orders-eu' }, 'x')).toEqual({
      kind: 'redis',
      url: 'redis://cache:6380',
      stream: 'sample_orders',
      group: 'orders-eu',
    });
  });

  it('refuses an unknown transport at start-up instead of silently staying in-process', () => {
    expect(() => sampleConfigFromEnv({ EVENT_TRANSPORT: 'kafka' })).toThrow('EVENT_TRANSPORT must be "in-process", "nats" or "redis", got "kafka".');
  });
});
