// Environment → one frozen, validated Config. Every limit is named *Max and documented in the
// README's configuration table; a bad value stops the service at start with the variable named.

export interface Config {
  readonly grpcHost: string;
  readonly grpcPort: number;
  readonly httpHost: string;
  readonly httpPort: number;
  /** Unset: a private redis-server is started from the PATH. */
  readonly redisUrl: string | undefined;
  /** Comma-separated host:port seeds of a Redis Cluster; wins over redisUrl. */
  readonly redisClusterNodes: readonly { host: string; port: number }[] | undefined;
  readonly redisKeyPrefix: string;
  /** Unset: an embedded PostgreSQL is started. */
  readonly databaseUrl: string | undefined;
  readonly databaseSchema: string;
  /** Where the private Redis and embedded PostgreSQL keep their files when nothing is configured. */
  readonly dataDirectory: string;
  /** Hash-tag partitions of the keyspace; fixed for the life of a deployment. */
  readonly partitionCount: number;
  readonly validitySeconds: number;
  /** How long after its validity an unreported grant is released by the sweep. */
  readonly expiryGraceSeconds: number;
  readonly sweepIntervalMs: number;
  readonly sweepBatchMax: number;
  readonly quotaThresholdPercent: number;
  /** Answers to retries are kept at least this long after the last request of their session. */
  readonly idempotencyTtlSeconds: number;
  /** Answers kept per session; older request numbers are refused as too old. */
  readonly sessionAnswersMax: number;
  readonly deviceCacheMax: number;
  /** Sessions whose positions each process remembers, to quote their next call at once. */
  readonly sessionsRememberedMax: number;
  readonly itemsPerRequestMax: number;
  readonly allowancesPerRatingGroupMax: number;
  /** How often plans' allowances are granted for the current period (src/catalog/allowance-granter.ts). */
  readonly allowanceGrantIntervalMs: number;
  /** The ledger worker (src/ledger/): how often it drains the streams, entries per partition per pass, and after how long a crashed consumer's entries are taken over. */
  readonly ledgerEnabled: boolean;
  /** How often the billing run looks for closed periods to invoice (src/billing/billing-run.ts). */
  readonly billingRunIntervalMs: number;
  /** How long after its period closes an invoice stays a draft that runs refresh; 0 issues at once. */
  readonly invoiceGraceHours: number;
  readonly twoStoreRepairIntervalMs: number;
  readonly twoStoreRepairBatchMax: number;
  readonly ledgerIntervalMs: number;
  readonly ledgerBatchMax: number;
  readonly ledgerClaimIdleMs: number;
  readonly ledgerBacklogWarnEvents: number;
  readonly bodyBytesMax: number;
  /** How long a client may take to send a whole HTTP request, headers and body (408 after). */
  readonly httpRequestTimeoutMs: number;
  /** How long a client may take to send the request line and headers; at most the request timeout. */
  readonly httpHeadersTimeoutMs: number;
  /** How long an idle keep-alive connection stays open after its last response. */
  readonly httpKeepAliveTimeoutMs: number;
  /** Open HTTP connections; one more is closed at once. */
  readonly httpConnectionsMax: number;
  readonly adminToken: string | undefined;
  readonly logLevel: string;
}

type Environment = Record<string, string | undefined>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(environment: Environment = process.env): Config {
  const read = new EnvironmentReader(environment);
  const redisKeyPrefix = read.string('REDIS_KEY_PREFIX', 'io:');
  if (/[{}]/.test(redisKeyPrefix)) {
    throw new ConfigError('REDIS_KEY_PREFIX: must not contain { or }, which Redis Cluster reads as a hash tag');
  }
  const databaseSchema = read.string('DATABASE_SCHEMA', 'public');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(databaseSchema)) {
    throw new ConfigError('DATABASE_SCHEMA: must be a lower-case SQL identifier');
  }
  const config = Object.freeze({
    grpcHost: read.string('GRPC_HOST', '0.0.0.0'),
    grpcPort: read.integer('GRPC_PORT', 50051, 0, 65535),
    httpHost: read.string('HTTP_HOST', '0.0.0.0'),
    httpPort: read.integer('HTTP_PORT', 8080, 0, 65535),
    redisUrl: read.optional('REDIS_URL'),
    redisClusterNodes: parseClusterNodes(read.optional('REDIS_CLUSTER_NODES')),
    redisKeyPrefix,
    databaseUrl: read.optional('DATABASE_URL'),
    databaseSchema,
    dataDirectory: read.string('DATA_DIR', '.data'),
    partitionCount: read.integer('PARTITION_COUNT', 16, 1, 16384),
    validitySeconds: read.integer('VALIDITY_SECONDS', 600, 1, 86400),
    expiryGraceSeconds: read.integer('EXPIRY_GRACE_SECONDS', 60, 0, 86400),
    sweepIntervalMs: read.integer('SWEEP_INTERVAL_MS', 1000, 10, 3_600_000),
    sweepBatchMax: read.integer('SWEEP_BATCH_MAX', 500, 1, 10_000),
    allowanceGrantIntervalMs: read.integer('ALLOWANCE_GRANT_INTERVAL_MS', 60_000, 1000, 86_400_000),
    ledgerEnabled: read.boolean('LEDGER_ENABLED', true),
    billingRunIntervalMs: read.integer('BILLING_RUN_INTERVAL_MS', 3_600_000, 1000, 86_400_000),
    // At most 27 days: a period's draft must be issued before the next period closes.
    invoiceGraceHours: read.integer('INVOICE_GRACE_HOURS', 0, 0, 27 * 24),
    twoStoreRepairIntervalMs: read.integer('TWO_STORE_REPAIR_INTERVAL_MS', 5000, 10, 3_600_000),
    twoStoreRepairBatchMax: read.integer('TWO_STORE_REPAIR_BATCH_MAX', 100, 1, 10_000),
    ledgerIntervalMs: read.integer('LEDGER_INTERVAL_MS', 200, 10, 60_000),
    ledgerBatchMax: read.integer('LEDGER_BATCH_MAX', 1000, 1, 10_000),
    ledgerClaimIdleMs: read.integer('LEDGER_CLAIM_IDLE_MS', 30_000, 1000, 3_600_000),
    ledgerBacklogWarnEvents: read.integer('LEDGER_BACKLOG_WARN_EVENTS', 1_000_000, 1, 1_000_000_000),
    quotaThresholdPercent: read.integer('QUOTA_THRESHOLD_PERCENT', 20, 0, 100),
    idempotencyTtlSeconds: read.integer('IDEMPOTENCY_TTL_SECONDS', 86400, 60, 90 * 86400),
    sessionAnswersMax: read.integer('SESSION_ANSWERS_MAX', 256, 8, 100_000),
    deviceCacheMax: read.integer('DEVICE_CACHE_MAX', 1_000_000, 0, 100_000_000),
    sessionsRememberedMax: read.integer('SESSION_CACHE_MAX', 100_000, 0, 100_000_000),
    itemsPerRequestMax: read.integer('ITEMS_PER_REQUEST_MAX', 32, 1, 32),
    allowancesPerRatingGroupMax: read.integer('ALLOWANCES_PER_RATING_GROUP_MAX', 16, 1, 64),
    bodyBytesMax: read.integer('BODY_BYTES_MAX', 65536, 1024, 16 * 1024 * 1024),
    httpRequestTimeoutMs: read.integer('HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    httpHeadersTimeoutMs: read.integer('HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 3_600_000),
    httpKeepAliveTimeoutMs: read.integer('HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 3_600_000),
    httpConnectionsMax: read.integer('HTTP_CONNECTIONS_MAX', 4096, 1, 1_000_000),
    adminToken: read.optional('ADMIN_TOKEN'),
    logLevel: read.string('LOG_LEVEL', 'info'),
  });
  // A retry must find its answer as long as the reservation it answered can still be open;
  // otherwise a late retried commit would be charged twice.
  if (config.idempotencyTtlSeconds < config.validitySeconds + config.expiryGraceSeconds) {
    throw new ConfigError(
      `IDEMPOTENCY_TTL_SECONDS: ${config.idempotencyTtlSeconds} is shorter than VALIDITY_SECONDS + EXPIRY_GRACE_SECONDS (${config.validitySeconds + config.expiryGraceSeconds})`,
    );
  }
  // Node refuses to start with a headers timeout longer than the request timeout it is part of.
  if (config.httpHeadersTimeoutMs > config.httpRequestTimeoutMs) {
    throw new ConfigError(`HTTP_HEADERS_TIMEOUT_MS: ${config.httpHeadersTimeoutMs} is longer than HTTP_REQUEST_TIMEOUT_MS (${config.httpRequestTimeoutMs})`);
  }
  return config;
}

function parseClusterNodes(value: string | undefined): Config['redisClusterNodes'] {
  if (value === undefined) return undefined;
  return value.split(',').map((seed) => {
    const match = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(seed);
    if (!match) throw new ConfigError(`REDIS_CLUSTER_NODES: "${seed}" is not host:port`);
    return { host: match[1]!, port: Number(match[2]) };
  });
}

class EnvironmentReader {
  constructor(private readonly environment: Environment) {}

  optional(name: string): string | undefined {
    const value = this.environment[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.optional(name) ?? fallback;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (raw !== 'true' && raw !== 'false') throw new ConfigError(`${name}: "${raw}" is not true or false`);
    return raw === 'true';
  }

  integer(name: string, fallback: number, minimum: number, maximum: number): number {
    const raw = this.optional(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name}: "${raw}" is not a whole number`);
    const value = Number(raw);
    if (value < minimum || value > maximum) {
      throw new ConfigError(`${name}: ${value} is outside ${minimum}..${maximum}`);
    }
    return value;
  }
}
