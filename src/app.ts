// The composition root for a running service, given its connections: migrations, projection,
// caches, use cases, the expiry sweep and both servers. main.ts adds the process around it
// (configuration, private Redis and PostgreSQL, signals); tests start it with an injected clock.
import type * as grpc from '@grpc/grpc-js';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type pg from 'pg';
import { pino, type Logger } from 'pino';
import { BalanceStore } from './balance/balance-store.js';
import { Directory } from './balance/directory.js';
import { KeySpace } from './balance/keys.js';
import { Projection } from './balance/projection.js';
import { BillingRun } from './billing/billing-run.js';
import { CorrectionService } from './billing/corrections.js';
import { InvoiceService } from './billing/invoices.js';
import { PaymentService } from './billing/payments.js';
import { PendingTopUpFinisher } from './billing/pending-top-ups.js';
import { StatementService } from './billing/statements.js';
import { AllowanceGranter } from './catalog/allowance-granter.js';
import { CatalogService } from './catalog/catalog-service.js';
import { SubscriptionService } from './catalog/subscription-service.js';
import { CatalogCache } from './charging/catalog-cache.js';
import { ChargingService } from './charging/charging-service.js';
import { systemClock, type Clock } from './clock.js';
import { ExpirySweeper } from './charging/expiry-sweeper.js';
import { ConfigError, type Config } from './config.js';
import { migrate } from './db/database.js';
import { bindGrpcServer, createGrpcServer } from './grpc/server.js';
import { createHttpServer } from './http/server.js';
import { Periodic } from './infra/periodic.js';
import { Journal } from './ledger/journal.js';
import { LedgerWorker } from './ledger/ledger-worker.js';
import { Rebuilder } from './ledger/rebuilder.js';
import { Reconciler } from './ledger/reconciler.js';
import { ProjectionRepair, type Reprojector } from './provisioning/pending-projections.js';
import { ProvisioningService, type ProvisionedKind } from './provisioning/provisioning-service.js';

export interface AppDependencies {
  config: Config;
  redis: Redis | Cluster;
  pool: pg.Pool;
  clock?: Clock;
  logger?: Logger;
  /** The expiry sweep, the allowance grants and the ledger; tests drive them with sweepOnce(), grantDue() and drainOnce(). */
  startBackgroundJobs?: boolean;
  benchNoopEnabled?: boolean;
}

export interface App {
  charging: ChargingService;
  provisioning: ProvisioningService;
  catalog: CatalogCache;
  /** Pricing as code: apply and export the product catalog (plans, tariffs, rating groups). */
  catalogService: CatalogService;
  subscriptions: SubscriptionService;
  store: BalanceStore;
  sweeper: ExpirySweeper;
  granter: AllowanceGranter;
  ledger: LedgerWorker;
  billing: BillingRun;
  payments: PaymentService;
  corrections: CorrectionService;
  /** Finishes payments and credit notes left pending between PostgreSQL and Redis. */
  finisher: PendingTopUpFinisher;
  /** Projects provisioning and catalog rows whose projection into Redis did not finish. */
  projectionRepair: ProjectionRepair;
  keys: KeySpace;
  grpcPort: number;
  httpPort: number;
  close(): Promise<void>;
}

export async function startApp(dependencies: AppDependencies): Promise<App> {
  const { config, redis, pool } = dependencies;
  const clock = dependencies.clock ?? systemClock;
  const log = dependencies.logger ?? pino({ level: config.logLevel });
  await migrate(pool, config.databaseSchema);
  const keys = new KeySpace(config.redisKeyPrefix, config.partitionCount);
  const directory = new Directory(redis, keys);
  const catalog = new CatalogCache(directory, config.deviceCacheMax);
  const projection = new Projection(redis, keys, (message) => catalog.invalidate(message));
  const claimed = await projection.claimPartitionCount(config.partitionCount);
  if (claimed !== config.partitionCount) {
    throw new ConfigError(`PARTITION_COUNT: this keyspace was created with ${claimed} partitions; it cannot change to ${config.partitionCount}`);
  }
  const provisioning = new ProvisioningService(pool, projection, { allowancesPerRatingGroupMax: config.allowancesPerRatingGroupMax }, clock);
  const catalogService = new CatalogService(pool, projection, clock);
  const subscriptions = new SubscriptionService(pool, projection, clock);
  if (!(await projection.isProjected())) await projectEverything(provisioning, catalogService, subscriptions, log);
  // Rows whose projection a crash or an outage interrupted are projected now, then every interval.
  const provisioned = (kind: ProvisionedKind): Reprojector => (client, id) => provisioning.reproject(client, kind, id);
  const projectionRepair = new ProjectionRepair(pool, {
    'rating-group': provisioned('rating-group'), tariff: provisioned('tariff'), customer: provisioned('customer'),
    device: provisioned('device'), allowance: provisioned('allowance'),
    plan: (client, id) => catalogService.reprojectPlan(client, id),
    subscriptions: (client, key) => subscriptions.reproject(client, key),
  }, config.twoStoreRepairBatchMax);
  await projectionRepair.repairDue().catch((error: unknown) => log.warn({ err: error }, 'projecting marked rows at start failed; they stay marked and are projected on the next pass'));
  await catalog.loadRatingGroups();
  const subscriber = await subscribeInvalidations(redis, keys, catalog, log);
  const store = new BalanceStore(redis, keys);
  const charging = new ChargingService(store, catalog, clock, config);
  const sweeper = new ExpirySweeper(store, clock, {
    partitionCount: config.partitionCount, batchMax: config.sweepBatchMax, intervalMs: config.sweepIntervalMs, sessionTtlSeconds: config.idempotencyTtlSeconds,
  }, (error) => log.warn({ err: error }, 'expiry sweep failed; it runs again'));
  const granter = new AllowanceGranter(pool, directory, projection, clock, config.allowanceGrantIntervalMs,
    (error) => log.warn({ err: error }, 'granting allowances failed; it runs again'));
  const journal = new Journal(pool, clock);
  const ledger = new LedgerWorker(redis, keys, journal, {
    partitionCount: config.partitionCount, intervalMs: config.ledgerIntervalMs, batchMax: config.ledgerBatchMax,
    claimIdleMs: config.ledgerClaimIdleMs, backlogWarnEvents: config.ledgerBacklogWarnEvents,
  }, (error) => log.warn({ err: error }, 'journaling events failed; they stay in Redis and are journaled on the next pass'),
  (backlog) => log.warn(backlog, 'the journal is falling behind: events wait in Redis'));
  const reconciler = new Reconciler(pool, redis, keys, journal, ledger);
  const rebuilder = new Rebuilder(pool, redis, keys, journal, ledger, clock);
  const statements = new StatementService(pool, clock);
  const billing = new BillingRun(pool, clock, { invoiceGraceMs: config.invoiceGraceHours * 3_600_000 });
  const invoices = new InvoiceService(pool);
  const payments = new PaymentService(pool, charging, clock);
  const corrections = new CorrectionService(pool, charging, clock);
  const finisher = new PendingTopUpFinisher(pool, clock, {
    payment: (topUpId) => payments.settle(topUpId), 'credit-note': (topUpId) => corrections.settle(topUpId),
  }, { batchMax: config.twoStoreRepairBatchMax, answerTtlMs: config.idempotencyTtlSeconds * 1000 });
  const finishing = new Periodic(() => finishPending(finisher, log), config.twoStoreRepairIntervalMs,
    (error) => log.warn({ err: error }, 'finishing pending payments failed; they stay pending and are finished on the next pass'));
  const repairing = new Periodic(() => projectionRepair.repairDue(), config.twoStoreRepairIntervalMs,
    (error) => log.warn({ err: error }, 'projecting provisioning into Redis failed; the rows stay marked and are projected on the next pass'));
  const billingSchedule = new Periodic(() => billing.run(), config.billingRunIntervalMs,
    (error) => log.warn({ err: error }, 'the billing run failed; it runs again'));
  if (dependencies.startBackgroundJobs ?? true) {
    sweeper.start();
    granter.start();
    if (config.ledgerEnabled) ledger.start();
    billingSchedule.start();
    finishing.start();
    repairing.start();
  }

  const benchNoopEnabled = dependencies.benchNoopEnabled ?? false;
  const grpcServer = createGrpcServer(charging, log, { benchNoopEnabled });
  const grpcPort = await bindGrpcServer(grpcServer, config.grpcHost, config.grpcPort);
  const http = createHttpServer({ charging, provisioning, catalog: catalogService, subscriptions, ledger, reconciler, rebuilder, statements, billing, invoices, payments, corrections, clock }, log as FastifyBaseLogger, {
    bodyBytesMax: config.bodyBytesMax, adminToken: config.adminToken, benchNoopEnabled, health: () => health(redis, pool),
    connections: {
      requestTimeoutMs: config.httpRequestTimeoutMs, headersTimeoutMs: config.httpHeadersTimeoutMs,
      keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs, connectionsMax: config.httpConnectionsMax,
    },
  });
  await http.listen({ host: config.httpHost, port: config.httpPort });
  const httpPort = (http.server.address() as { port: number }).port;

  const close = async () => {
    await Promise.all([shutdownGrpc(grpcServer), closeHttp(http)]);
    await Promise.all([sweeper.stop(), granter.stop(), ledger.stop(), billingSchedule.stop(), finishing.stop(), repairing.stop()]);
    subscriber.disconnect();
  };
  return { charging, provisioning, catalog, catalogService, subscriptions, store, sweeper, granter, ledger, billing, payments, corrections, finisher, projectionRepair, keys, grpcPort, httpPort, close };
}

/** One pass of the finisher; a request pending past the idempotency TTL needs a person, so it is reported. */
async function finishPending(finisher: PendingTopUpFinisher, log: Logger): Promise<void> {
  const report = await finisher.finishDue();
  if (report.stale > 0) log.error(report, 'payments or credit notes are pending longer than Redis keeps top-up answers: check each wallet against the journal before settling them by hand');
}

/** Cached copies are dropped on a message, and all of them when the subscription reconnects. */
async function subscribeInvalidations(redis: Redis | Cluster, keys: KeySpace, catalog: CatalogCache, log: Logger): Promise<Redis | Cluster> {
  // The subscription may queue its SUBSCRIBE until connected; charging commands never queue.
  const subscriber = 'isCluster' in redis && redis.isCluster
    ? (redis as Cluster).duplicate(undefined, { enableOfflineQueue: true })
    : (redis as Redis).duplicate({ enableOfflineQueue: true });
  subscriber.on('error', () => undefined);
  subscriber.on('message', (_channel: string, message: string) => {
    catalog.invalidate(message).catch((error: unknown) => log.warn({ err: error }, 'cache invalidation failed'));
  });
  let connectedBefore = false;
  subscriber.on('ready', () => {
    if (connectedBefore) void catalog.invalidate('*').catch(() => undefined);
    connectedBefore = true;
  });
  await subscriber.subscribe(keys.invalidationChannel());
  return subscriber;
}

async function health(redis: Redis | Cluster, pool: pg.Pool): Promise<Record<string, boolean>> {
  const [redisUp, databaseUp] = await Promise.all([
    redis.ping().then(() => true, () => false),
    pool.query('SELECT 1').then(() => true, () => false),
  ]);
  return { redis: redisUp, postgres: databaseUp };
}

function shutdownGrpc(server: grpc.Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

async function closeHttp(http: FastifyInstance): Promise<void> {
  await http.close();
}

/** Fills an empty Redis with everything the online path reads, then marks it projected. */
async function projectEverything(provisioning: ProvisioningService, catalog: CatalogService, subscriptions: SubscriptionService, log: Logger): Promise<void> {
  const rows = await provisioning.projectAll();
  const plans = await catalog.projectPlans();
  const subscribers = await subscriptions.projectAll();
  await provisioning.markProjected();
  log.info({ rows, plans, subscribers }, 'catalog projected into Redis');
}
