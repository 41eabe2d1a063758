import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('works with nothing configured', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ grpcPort: 50051, httpPort: 8080, redisUrl: undefined, databaseUrl: undefined, itemsPerRequestMax: 32, partitionCount: 16 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads a cluster seed list', () => {
    expect(loadConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:7000, 127.0.0.1:7001' }).redisClusterNodes).toEqual([
      { host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 },
    ]);
  });

  it.each([
    ['GRPC_PORT', 'abc', /GRPC_PORT: "abc" is not a whole number/],
    ['HTTP_PORT', '70000', /HTTP_PORT: 70000 is outside 0..65535/],
    ['ITEMS_PER_REQUEST_MAX', '33', /ITEMS_PER_REQUEST_MAX/],
    ['REDIS_KEY_PREFIX', 'io{x}:', /REDIS_KEY_PREFIX/],
    ['DATABASE_SCHEMA', 'Robert; DROP', /DATABASE_SCHEMA/],
    ['REDIS_CLUSTER_NODES', 'localhost', /REDIS_CLUSTER_NODES/],
    ['HTTP_REQUEST_TIMEOUT_MS', '50', /HTTP_REQUEST_TIMEOUT_MS: 50 is outside 100..3600000/],
    ['HTTP_CONNECTIONS_MAX', '0', /HTTP_CONNECTIONS_MAX: 0 is outside 1..1000000/],
  ])('names %s when it is %j', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrowError(message);
  });

  it('bounds slow HTTP clients by default, and refuses a headers timeout longer than the request timeout', () => {
    expect(loadConfig({})).toMatchObject({ httpRequestTimeoutMs: 30_000, httpHeadersTimeoutMs: 10_000, httpKeepAliveTimeoutMs: 5_000, httpConnectionsMax: 4096 });
    expect(() => loadConfig({ HTTP_REQUEST_TIMEOUT_MS: '1000', HTTP_HEADERS_TIMEOUT_MS: '2000' })).toThrowError(/HTTP_HEADERS_TIMEOUT_MS: 2000 is longer than HTTP_REQUEST_TIMEOUT_MS \(1000\)/);
  });

  it('refuses answers that would expire before a reservation they answered can be swept', () => {
    const shortLived = { IDEMPOTENCY_TTL_SECONDS: '600', VALIDITY_SECONDS: '600', EXPIRY_GRACE_SECONDS: '60' };
    expect(() => loadConfig(shortLived)).toThrowError(/IDEMPOTENCY_TTL_SECONDS: 600 is shorter than VALIDITY_SECONDS \+ EXPIRY_GRACE_SECONDS \(660\)/);
    expect(loadConfig({ ...shortLived, IDEMPOTENCY_TTL_SECONDS: '660' }).idempotencyTtlSeconds).toBe(660);
  });
});
