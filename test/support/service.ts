// A real Io Billing service for one test file: real Redis, real PostgreSQL, real gRPC and HTTP
// servers on free ports, its own key prefix and schema, and a clock the test moves by hand.
import * as grpc from '@grpc/grpc-js';
import type { Cluster, Redis } from 'ioredis';
import { pino } from 'pino';
import { startApp, type App } from '../../src/app.js';
import { connectRedis, whenReady } from '../../src/balance/redis-connection.js';
import { ManualClock } from '../../src/clock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createPool } from '../../src/db/database.js';
import { loadProtos } from '../../src/grpc/server.js';
import { createTestContext, type TestContext } from './context.js';

export const START_MS = Date.UTC(2026, 10, 23, 10, 0, 0);

export interface TestService {
  app: App;
  clock: ManualClock;
  config: Config;
  context: TestContext;
  redis: Redis | Cluster;
  grpc: GrpcClient;
  http: HttpClient;
  close(): Promise<void>;
}

export interface ServiceOptions {
  environment?: Record<string, string>;
  /** A cluster, or a private redis-server, instead of the run's shared one. */
  redis?: { clusterNodes: { host: string; port: number }[] } | { url: string };
  /** A private PostgreSQL (its own schema is still created in it), instead of the run's shared one. */
  databaseUrl?: string;
  /** The expiry sweep, allowance grants, ledger and billing schedule; off by default, tests drive them. */
  startBackgroundJobs?: boolean;
}

export async function startTestService(name: string, options: ServiceOptions = {}): Promise<TestService> {
  const context = await createTestContext(name);
  const config = loadConfig({
    REDIS_KEY_PREFIX: context.keyPrefix, DATABASE_SCHEMA: context.schema,
    GRPC_HOST: '127.0.0.1', GRPC_PORT: '0', HTTP_HOST: '127.0.0.1', HTTP_PORT: '0', LOG_LEVEL: 'silent',
    ...options.environment,
  });
  const redis = connectRedis(options.redis ?? { url: context.redisUrl });
  redis.on('error', () => undefined);
  await whenReady(redis);
  const pool = createPool(options.databaseUrl ?? context.databaseUrl, context.schema);
  const clock = new ManualClock(START_MS);
  const app = await startApp({
    config, redis, pool, clock, logger: pino({ level: 'silent' }), startBackgroundJobs: options.startBackgroundJobs ?? false, benchNoopEnabled: true,
  });
  const grpcClient = new GrpcClient(`127.0.0.1:${app.grpcPort}`);
  const http = new HttpClient(`http://127.0.0.1:${app.httpPort}`);
  const close = async () => {
    grpcClient.close();
    await app.close();
    redis.disconnect();
    await pool.end();
    await context.cleanup();
  };
  return { app, clock, config, context, redis, grpc: grpcClient, http, close };
}

export interface GrpcFailure {
  code: grpc.status;
  details: string;
  errorCode: string | undefined;
  field: string | undefined;
}

type Callback = (error: grpc.ServiceError | null, response: unknown) => void;
type UnaryMethod = (request: unknown, callback: Callback) => void;

export class GrpcClient {
  readonly client: grpc.Client & Record<string, UnaryMethod>;

  constructor(target: string) {
    const protos = loadProtos({ defaults: true }) as unknown as { iobilling: { charging: { v1: { ChargingService: grpc.ServiceClientConstructor } } } };
    this.client = new protos.iobilling.charging.v1.ChargingService(target, grpc.credentials.createInsecure()) as grpc.Client & Record<string, UnaryMethod>;
  }

  /** Resolves with the response, or with the failure when the status is not OK. */
  call<T = any>(method: string, request: unknown): Promise<{ ok: true; response: T } | { ok: false; error: GrpcFailure }> {
    return new Promise((resolve) => {
      this.client[method]!.call(this.client, request, (error, response) => {
        if (error === null) return resolve({ ok: true, response: response as T });
        resolve({
          ok: false,
          error: {
            code: error.code, details: error.details,
            errorCode: error.metadata?.get('io-error-code')[0]?.toString(), field: error.metadata?.get('io-error-field')[0]?.toString(),
          },
        });
      });
    });
  }

  /** The response, failing the test when the status is not OK. */
  async ok<T = any>(method: string, request: unknown): Promise<T> {
    const result = await this.call<T>(method, request);
    if (!result.ok) throw new Error(`${method} failed: ${result.error.errorCode} ${result.error.details}`);
    return result.response;
  }

  close(): void {
    this.client.close();
  }
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string }> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, init);
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    return { status: response.status, body: parsed, text };
  }

  async ok(method: string, path: string, body?: unknown): Promise<any> {
    const response = await this.request(method, path, body);
    if (response.status >= 300) throw new Error(`${method} ${path} → ${response.status} ${response.text}`);
    return response.body;
  }
}

// Provisioning through the admin API, as an operator would.

export interface FleetOptions {
  customerId: string;
  devices: string[];
  currency?: string;
  tariff?: { id: string; rates: object[]; rounding?: object; final_unit_action?: string };
  balance?: string;
  timeZone?: string;
}

export async function provisionFleet(service: TestService, fleet: FleetOptions): Promise<void> {
  const currency = fleet.currency ?? 'EUR';
  if (fleet.tariff) {
    await service.http.ok('PUT', `/v1/tariffs/${fleet.tariff.id}`, {
      name: fleet.tariff.id, currency, rates: fleet.tariff.rates,
      ...(fleet.tariff.rounding ? { rounding: fleet.tariff.rounding } : {}),
      ...(fleet.tariff.final_unit_action ? { final_unit_action: fleet.tariff.final_unit_action } : {}),
    });
  }
  await service.http.ok('PUT', `/v1/customers/${fleet.customerId}`, {
    name: fleet.customerId, currency, tariff_id: fleet.tariff?.id ?? null, time_zone: fleet.timeZone ?? 'UTC',
  });
  for (const device of fleet.devices) await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: fleet.customerId });
  if (fleet.balance !== undefined && fleet.balance !== '0') {
    await service.http.ok('POST', '/v1/top-ups', { top_up_id: `opening-${fleet.customerId}`, customer_id: fleet.customerId, amount: fleet.balance, currency });
  }
}

export async function ratingGroups(service: TestService, groups: [number, 'bytes' | 'seconds' | 'events'][]): Promise<void> {
  for (const [id, unit] of groups) await service.http.ok('PUT', `/v1/rating-groups/${id}`, { name: `rg-${id}`, unit });
}
