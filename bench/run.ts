// The whole benchmark in one run: `npm run bench` (build, then node dist/bench/run.js).
//
// 1. Setup: a private redis-server, PostgreSQL (DATABASE_URL, else a local one, else embedded),
//    the service as a child process with the bench no-op endpoints on, and a fleet provisioned
//    over its admin API.
// 2. Memory: Redis bytes per idle provisioned device and per open reservation, on a quiet Redis.
// 3. gRPC: the no-op RPC (the ceiling), the session flow at full load, then at half its rate.
// 4. HTTP/JSON: the no-op route (the ceiling), the session flow, one-shot charges.
// 5. Redis: the reserve script alone by EVALSHA, unpipelined and pipelined (Redis's ceiling).
//
// Every throughput is shown as a ratio to its ceiling, measured in the same run on the same
// machine: on a small machine the absolute numbers move from run to run, the ratios much less.
// The results are printed as markdown and written to bench/results/latest.json.
//
// Settings (environment):
//   BENCH_DURATION_MS          each measured load phase (default 10000)
//   BENCH_WARMUP_MS            unmeasured phase before each one (default 2000)
//   BENCH_REDIS_DURATION_MS    each Redis ceiling phase (default 5000)
//   BENCH_CUSTOMERS            customers in the fleet (default 100)
//   BENCH_DEVICES              devices in the fleet, spread over the customers (default 1000)
//   BENCH_LOAD_PROCESSES       load-generator processes, gRPC and HTTP (default 2)
//   BENCH_GRPC_CONCURRENCY     gRPC gateways, over the processes (default 64)
//   BENCH_HTTP_CONNECTIONS     HTTP connections, over the processes (default 64)
//   BENCH_REDIS_IN_FLIGHT      unpipelined reserve calls in flight on one connection (default 64)
//   BENCH_REDIS_PIPELINE_BATCH reserve calls per pipeline (default 100)
//   BENCH_REDIS_PIPELINES_IN_FLIGHT pipelines in flight (default 4)
//   BENCH_MEMORY_DEVICES       idle devices added for the memory reading (default 10000)
//   BENCH_MEMORY_RESERVATIONS  reservations opened for the memory reading (default 10000)
//   BENCH_MEMORY_SESSIONS      whole sessions run over HTTP for the memory reading (default 2000)
//   BENCH_TIMEOUT_MS           the whole run is stopped after this (default 300000)
//   BENCH_FAIL_ON_TARGETS      "true": exit 2 when a target is missed (default: report only)
//   BENCH_POSTGRES             "embedded": always an embedded PostgreSQL (default "auto")
//   DATABASE_URL               PostgreSQL to use instead of a local or embedded one
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { KeySpace } from '../src/balance/keys.js';
import { loadConfig, type Config } from '../src/config.js';
import { Cleanups, startEnvironment, type BenchEnvironment } from './environment.js';
import { deviceId, provisionFleet, type Fleet } from './fleet.js';
import { runHttpLoad, type HttpFlow, type HttpLoadResult } from './http-load.js';
import { runLoad, sessionFlowDefaults, type LoadResult } from './load.js';
import { CpuWindow, ownCpuClock, processCpuClock, redisCpuClock, type CpuPercentages } from './process-cpu.js';
import { benchNoopMethodPath, benchProtoFile, chargingProtoFile } from './proto-messages.js';
import {
  measureCompletedSessions, measureIdleDevices, measureOpenReservations,
  type CompletedSessionMemory, type IdleDeviceMemory, type OpenReservationMemory,
} from './redis-memory.js';
import {
  loadReserveScript, ReserveCaller, reserveCallTemplates, runRedisCeiling, type RedisCeilingResult, type ReserveCallTemplate, type ReserveRequest,
} from './redis-reserve.js';
import { cpuTable, formatBytes, formatMs, formatNumber, resultsTable, type CpuRow, type ReportRow } from './report.js';

const resultsFile = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));

/** The targets. */
const targets = Object.freeze({
  grpcSessionToNoopRatioMin: 0.7,
  httpChargingToNoopRatioMin: 0.4,
  halfLoadLatencyMsP99Max: 10,
});

/** Failed calls beyond this share of all calls make the run invalid (exit 1). */
const failedShareMax = 0.001;
const partitionCount = 16;
const currency = 'EUR';
const requestedUnits = 1_000_000;
const usedUnits = 800_000;
const chargeUnits = 1;

interface Settings {
  durationMs: number;
  warmupMs: number;
  redisDurationMs: number;
  customerCount: number;
  deviceCount: number;
  loadProcessCount: number;
  grpcConcurrency: number;
  httpConnections: number;
  redisInFlight: number;
  redisPipelineBatch: number;
  redisPipelinesInFlight: number;
  memoryDeviceCount: number;
  memoryReservationCount: number;
  memorySessionCount: number;
  timeoutMs: number;
  failOnTargets: boolean;
  postgres: 'auto' | 'embedded';
}

function readSettings(environment: NodeJS.ProcessEnv): Settings {
  const integer = (name: string, fallback: number, minimum = 1): number => {
    const raw = environment[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < minimum) throw new RangeError(`${name}: "${raw}" must be a whole number ≥ ${minimum}`);
    return Number(raw);
  };
  return {
    durationMs: integer('BENCH_DURATION_MS', 10_000, 100),
    warmupMs: integer('BENCH_WARMUP_MS', 2_000, 0),
    redisDurationMs: integer('BENCH_REDIS_DURATION_MS', 5_000, 100),
    customerCount: integer('BENCH_CUSTOMERS', 100),
    deviceCount: integer('BENCH_DEVICES', 1_000),
    loadProcessCount: integer('BENCH_LOAD_PROCESSES', 2),
    grpcConcurrency: integer('BENCH_GRPC_CONCURRENCY', 64),
    httpConnections: integer('BENCH_HTTP_CONNECTIONS', 64),
    redisInFlight: integer('BENCH_REDIS_IN_FLIGHT', 64),
    redisPipelineBatch: integer('BENCH_REDIS_PIPELINE_BATCH', 100),
    redisPipelinesInFlight: integer('BENCH_REDIS_PIPELINES_IN_FLIGHT', 4),
    memoryDeviceCount: integer('BENCH_MEMORY_DEVICES', 10_000),
    memoryReservationCount: integer('BENCH_MEMORY_RESERVATIONS', 10_000),
    memorySessionCount: integer('BENCH_MEMORY_SESSIONS', 2_000),
    timeoutMs: integer('BENCH_TIMEOUT_MS', 300_000, 1_000),
    failOnTargets: environment['BENCH_FAIL_ON_TARGETS'] === 'true',
    postgres: postgresChoice(environment['BENCH_POSTGRES']),
  };
}

function postgresChoice(raw: string | undefined): Settings['postgres'] {
  const value = raw?.trim() || 'auto';
  if (value !== 'auto' && value !== 'embedded') throw new RangeError(`BENCH_POSTGRES: "${value}" must be auto or embedded`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Context {
  settings: Settings;
  environment: BenchEnvironment;
  fleet: Fleet;
  keys: KeySpace;
  config: Config;
  /** For memory readings and the Redis ceiling; the service has its own connection. */
  redis: Redis;
  reserveSha: string;
  templates: ReserveCallTemplate[];
  cpu: CpuRow[];
  /** Problems that make the run invalid. */
  problems: string[];
  /** Worth knowing, not invalidating. */
  notes: string[];
}

interface Results {
  memory: { idleDevices: IdleDeviceMemory; openReservations: OpenReservationMemory; completedSessions: CompletedSessionMemory };
  grpc: { noop: LoadResult; session: LoadResult; halfLoad: LoadResult };
  http: { noop: HttpLoadResult; session: HttpLoadResult; charge: HttpLoadResult };
  redis: { unpipelined: RedisCeilingResult; pipelined: RedisCeilingResult };
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const cleanups = new Cleanups();
  const stop = installStopHandlers(cleanups, settings.timeoutMs);
  try {
    const startedAt = new Date();
    log(`setting up: redis-server, PostgreSQL, the service (${cpus().length} CPUs)`);
    const context = await setUp(settings, cleanups);
    const memory = await measureMemory(context);
    const grpc = await measureGrpc(context);
    const http = await measureHttp(context);
    const redis = await measureRedis(context);
    const results: Results = { memory, grpc, http, redis };
    const rows = reportRows(results, context);
    await printReport(rows, results, context);
    await writeResults({ startedAt, finishedAt: new Date(), settings, context, results, rows });
    if (context.problems.length > 0) return 1;
    const missed = rows.filter((row) => row.passed === false);
    return missed.length > 0 && settings.failOnTargets ? 2 : 0;
  } finally {
    await cleanups.runAll();
    stop();
  }
}

async function setUp(settings: Settings, cleanups: Cleanups): Promise<Context> {
  const environment = await startEnvironment({ partitionCount, postgres: settings.postgres }, cleanups);
  log(`service up (pid ${environment.service.pid}); PostgreSQL: ${environment.databaseSource}, schema ${environment.databaseSchema}`);
  const provisionStartedMs = Date.now();
  const fleet = await provisionFleet(environment.service.httpUrl, {
    customerCount: settings.customerCount,
    deviceCount: settings.deviceCount,
    topUpAmount: '1000000.00',
    currency,
  });
  log(`provisioned ${settings.customerCount} customers and ${settings.deviceCount} devices over HTTP in ${Date.now() - provisionStartedMs} ms`);
  const redis = new Redis(environment.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  cleanups.add('bench Redis connection', async () => void redis.disconnect());
  await redis.connect();
  const keys = new KeySpace(environment.redisKeyPrefix, partitionCount);
  // The service's settings as it read them: the same environment, the same defaults.
  const config = loadConfig({ ...process.env, REDIS_KEY_PREFIX: environment.redisKeyPrefix, PARTITION_COUNT: String(partitionCount), DATABASE_SCHEMA: environment.databaseSchema });
  const reserveSha = await loadReserveScript(redis);
  const templates = await reserveCallTemplates(redis, keys, config, fleet.deviceIds, reserveRequest(fleet), Date.now());
  return { settings, environment, fleet, keys, config, redis, reserveSha, templates, cpu: [], problems: [], notes: [] };
}

/** What a gateway's Reserve asks for in the session flow. */
function reserveRequest(fleet: Fleet): ReserveRequest {
  return { ratingGroup: fleet.dataRatingGroup, requestedUnits: BigInt(requestedUnits) };
}

async function measureMemory(context: Context): Promise<Results['memory']> {
  const { settings, redis, keys } = context;
  log(
    `memory: ${formatNumber(settings.memoryDeviceCount)} idle devices, ${formatNumber(settings.memoryReservationCount)} open reservations, ` +
      `${formatNumber(settings.memorySessionCount)} whole sessions over HTTP`,
  );
  const idleDevices = await measureIdleDevices(redis, keys, {
    deviceCount: settings.memoryDeviceCount,
    customerCount: Math.max(1, Math.round(settings.memoryDeviceCount / 100)),
    currency,
    tariffId: context.fleet.tariffId,
    deviceId: (index) => deviceId(index, 1),
  });
  // Session ids shaped like a Diameter Session-Id, since their length shows in every key.
  const sessionIdPrefix = `smf-01.bench.example;${context.environment.runId};`;
  const caller = new ReserveCaller(redis, context.reserveSha, context.templates, sessionIdPrefix);
  const openReservations = await measureOpenReservations(redis, keys, caller, {
    reservationCount: settings.memoryReservationCount,
    batchSize: 100,
    sessionIdPrefix,
    firstSession: { partitionPrefix: context.templates[0]!.partitionPrefix, deviceId: context.templates[0]!.deviceId },
  });
  checkStatuses(context, 'memory: opening reservations', openReservations.statuses);
  const endedSessionIdPrefix = `smf-01.bench.example;${context.environment.runId};ended-`;
  const { deviceIds, customerIds } = context.fleet;
  const completedSessions = await measureCompletedSessions(redis, keys, {
    sessionCount: settings.memorySessionCount,
    concurrency: 16,
    // Device i belongs to customer i mod customers (see provisionFleet), so session 0 is customer 0's.
    runSession: (index) =>
      httpSession(context.environment.service.httpUrl, context.fleet.dataRatingGroup, `${endedSessionIdPrefix}${index}`, deviceIds[index % deviceIds.length]!),
    sampleSession: { partitionPrefix: keys.customerPrefix(customerIds[0]!), deviceId: deviceIds[0]!, sessionId: `${endedSessionIdPrefix}0` },
  });
  context.environment.service.assertRunning();
  return { idleDevices, openReservations, completedSessions };
}

/** One gateway session over HTTP/JSON, as a gateway would run it; throws unless every step succeeds. */
async function httpSession(httpUrl: string, ratingGroup: number, sessionId: string, deviceId: string): Promise<void> {
  const steps = [
    ['reserve', { session_id: sessionId, request_number: 1, device_id: deviceId, items: [{ rating_group: ratingGroup, requested_units: requestedUnits }] }],
    ['commit', { session_id: sessionId, request_number: 2, device_id: deviceId, items: [{ rating_group: ratingGroup, used_units: usedUnits, requested_units: requestedUnits }] }],
    ['commit', { session_id: sessionId, request_number: 3, device_id: deviceId, items: [{ rating_group: ratingGroup, used_units: usedUnits }], final: true }],
  ] as const;
  for (const [operation, body] of steps) {
    const response = await fetch(`${httpUrl}/v1/charging/${operation}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok || !text.includes('"result":"RESULT_CODE_SUCCESS"')) throw new Error(`memory session ${sessionId}: ${operation} → ${response.status} ${text}`);
  }
}

async function measureGrpc(context: Context): Promise<Results['grpc']> {
  const { settings, environment, fleet } = context;
  const common = {
    target: environment.service.grpcTarget,
    processCount: settings.loadProcessCount,
    concurrency: settings.grpcConcurrency,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
  };
  const sessionFlow = { ...sessionFlowDefaults, deviceIds: fleet.deviceIds, ratingGroup: fleet.dataRatingGroup, requestedUnits, usedUnits };

  log('gRPC: no-op ceiling');
  const noop = await withCpu(context, 'gRPC no-op', (observer) =>
    runLoad(
      { ...common, runId: `${environment.runId}gn`, protoFiles: [chargingProtoFile, benchProtoFile], flow: { kind: 'noop', methodPath: benchNoopMethodPath, message: { payload: '' } } },
      observer,
    ),
  );
  checkGrpc(context, 'gRPC no-op', noop);
  noteUnsaturatedCeiling(context);

  log('gRPC: session flow, Reserve → Commit → Commit final, full load');
  const session = await withCpu(context, 'gRPC session, full load', (observer) =>
    runLoad({ ...common, runId: `${environment.runId}gs`, flow: sessionFlow }, observer),
  );
  checkGrpc(context, 'gRPC session', session);

  const halfRate = Math.max(1, Math.round(session.flowsPerSecond / 2));
  log(`gRPC: session flow at half load, paced at ${formatNumber(halfRate)} flows/s`);
  const halfLoad = await withCpu(context, 'gRPC session, half load', (observer) =>
    runLoad({ ...common, runId: `${environment.runId}gh`, flow: sessionFlow, flowsPerSecondMax: halfRate }, observer),
  );
  checkGrpc(context, 'gRPC session at half load', halfLoad);
  if (halfLoad.flowsPerSecond < halfRate * 0.9) {
    context.notes.push(`gRPC half load reached ${halfLoad.flowsPerSecond} flows/s of the ${halfRate} asked: the pool of ${settings.grpcConcurrency} gateways was too small for the pace`);
  }
  return { noop, session, halfLoad };
}

async function measureHttp(context: Context): Promise<Results['http']> {
  const { settings, environment, fleet } = context;
  const run = (label: string, flow: HttpFlow, runIdSuffix: string) =>
    withCpu(context, label, (observer) =>
      runHttpLoad(
        {
          url: environment.service.httpUrl, flow, connections: settings.httpConnections, durationMs: settings.durationMs,
          warmupMs: settings.warmupMs, processCount: settings.loadProcessCount, runId: `${environment.runId}${runIdSuffix}`,
        },
        observer,
      ),
    );
  log('HTTP: no-op ceiling (POST /bench/noop)');
  const noop = await run('HTTP no-op', { kind: 'noop' }, 'hn');
  checkHttp(context, 'HTTP no-op', noop);
  noteUnsaturatedCeiling(context);
  log('HTTP: session flow over /v1/charging/reserve and /commit');
  const session = await run('HTTP session', { kind: 'session', deviceIds: fleet.deviceIds, ratingGroup: fleet.dataRatingGroup, requestedUnits, usedUnits }, 'hs');
  checkHttp(context, 'HTTP session', session);
  log('HTTP: one-shot charges (POST /v1/charging/charge)');
  const charge = await run('HTTP one-shot charge', { kind: 'charge', deviceIds: fleet.deviceIds, ratingGroup: fleet.eventRatingGroup, units: chargeUnits }, 'hc');
  checkHttp(context, 'HTTP charge', charge);
  return { noop, session, charge };
}

async function measureRedis(context: Context): Promise<Results['redis']> {
  const { settings, environment } = context;
  // Its own connection, so the reading is one client's, as the service has one.
  const redis = new Redis(environment.redis.url, { maxRetriesPerRequest: 1 });
  try {
    // Built again with the time of this phase, as the service would build them now.
    const templates = await reserveCallTemplates(redis, context.keys, context.config, context.fleet.deviceIds, reserveRequest(context.fleet), Date.now());
    const caller = new ReserveCaller(redis, context.reserveSha, templates, `${environment.runId}.r-`);
    const warmupMs = Math.min(settings.warmupMs, 1_000);
    const unpipelinedOptions = { mode: 'unpipelined', inFlight: settings.redisInFlight, batchSize: 1 } as const;
    const pipelinedOptions = { mode: 'pipelined', inFlight: settings.redisPipelinesInFlight, batchSize: settings.redisPipelineBatch } as const;

    log(`Redis: reserve.lua by EVALSHA, unpipelined, ${settings.redisInFlight} in flight`);
    if (warmupMs > 0) await runRedisCeiling(caller, { ...unpipelinedOptions, durationMs: warmupMs });
    const unpipelined = await withCpu(context, 'Redis reserve, unpipelined', () => runRedisCeiling(caller, { ...unpipelinedOptions, durationMs: settings.redisDurationMs }), true);
    checkStatuses(context, 'Redis unpipelined', unpipelined.statuses);

    log(`Redis: reserve.lua by EVALSHA, pipelines of ${settings.redisPipelineBatch}, ${settings.redisPipelinesInFlight} in flight`);
    if (warmupMs > 0) await runRedisCeiling(caller, { ...pipelinedOptions, durationMs: warmupMs });
    const pipelined = await withCpu(context, 'Redis reserve, pipelined', () => runRedisCeiling(caller, { ...pipelinedOptions, durationMs: settings.redisDurationMs }), true);
    checkStatuses(context, 'Redis pipelined', pipelined.statuses);
    return { unpipelined, pipelined };
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// CPU readings around each measured phase

/** Opens and closes a CPU window when a load driver reports its measured phase (after warm-up). */
class PhaseCpu {
  private started: Promise<void> | undefined;
  private ended: Promise<CpuPercentages> | undefined;

  constructor(private readonly window: CpuWindow) {}

  readonly observer = {
    measuredPhaseStarted: (): void => {
      this.started = this.window.start();
    },
    measuredPhaseEnded: (): void => {
      const started = this.started ?? Promise.resolve();
      this.ended = started.then(() => this.window.end());
    },
  };

  percentages(): Promise<CpuPercentages> {
    return this.ended ?? Promise.resolve({});
  }
}

type PhaseObserver = PhaseCpu['observer'];

/**
 * Runs a phase and records the CPU of the service, Redis and the load generator over its
 * measured window. Load drivers are given the observer that marks the window and report their
 * own processes' CPU; a phase run in this process (inProcess) is measured over the whole call.
 */
async function withCpu<T extends object>(
  context: Context,
  phase: string,
  run: (observer: PhaseObserver) => Promise<T>,
  inProcess = false,
): Promise<T> {
  const cpu = new PhaseCpu(
    new CpuWindow({
      service: processCpuClock(context.environment.service.pid),
      redis: redisCpuClock(context.redis),
      ...(inProcess ? { loadGenerator: ownCpuClock() } : {}),
    }),
  );
  if (inProcess) cpu.observer.measuredPhaseStarted();
  const result = await run(cpu.observer);
  if (inProcess) cpu.observer.measuredPhaseEnded();
  const percentages = await cpu.percentages();
  const driverCpu = 'clientCpuPercent' in result ? Number(result.clientCpuPercent) : null;
  context.cpu.push({
    phase,
    service: percentages['service'] ?? null,
    redis: percentages['redis'] ?? null,
    loadGenerator: inProcess ? (percentages['loadGenerator'] ?? null) : driverCpu,
  });
  context.environment.service.assertRunning();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Sanity: a phase with failures measured something else than what it claims

function checkShare(context: Context, label: string, failed: number, total: number, detail: string): void {
  if (failed === 0) return;
  const message = `${label}: ${failed} of ${total} failed (${detail})`;
  if (total === 0 || failed / total > failedShareMax) context.problems.push(message);
  else context.notes.push(message);
}

function checkGrpc(context: Context, label: string, result: LoadResult): void {
  if (result.callsOk === 0) context.problems.push(`${label}: no call succeeded`);
  const detail = `${JSON.stringify(result.errorsByStatus)} ${JSON.stringify(result.resultsByCode)}`;
  checkShare(context, `${label} calls`, result.callsFailed, result.callsOk + result.callsFailed, detail);
  checkShare(context, `${label} flows`, result.flowsAborted, result.flowsCompleted + result.flowsAborted, detail);
}

function checkHttp(context: Context, label: string, result: HttpLoadResult): void {
  if (result.requestsOk === 0) context.problems.push(`${label}: no request succeeded`);
  const detail = `statuses ${JSON.stringify(result.statusCodes)}, results ${JSON.stringify(result.resultsByCode)}, errors ${result.errors}, timeouts ${result.timeouts}`;
  checkShare(context, `${label} requests`, result.requestsFailed, result.requestsOk + result.requestsFailed, detail);
  checkShare(context, `${label} flows`, result.flowsAborted, result.flowsCompleted + result.flowsAborted, detail);
}

/** Below this service CPU a no-op ceiling is not the server's alone. */
const saturatedCpuPercentMin = 90;

/**
 * A ceiling phase where the service had CPU to spare was limited by something else: on a small
 * machine, mostly the load generator's share of the same cores. Worth saying next to the ratio.
 */
function noteUnsaturatedCeiling(context: Context): void {
  const row = context.cpu.at(-1);
  if (row === undefined || row.service === null || row.service >= saturatedCpuPercentMin) return;
  context.notes.push(
    `${row.phase}: the service used ${row.service}% of a core and the load generator ${row.loadGenerator ?? 'n/a'}%, ` +
      'so this ceiling is shared with the load generator on the same cores, not the server\'s alone',
  );
}

function checkStatuses(context: Context, label: string, statuses: Record<string, number>): void {
  const total = Object.values(statuses).reduce((sum, count) => sum + count, 0);
  checkShare(context, label, total - (statuses['OK'] ?? 0), total, `script statuses ${JSON.stringify(statuses)}`);
}

// ---------------------------------------------------------------------------------------------
// Report

function latency(result: { latencyMsP50: number; latencyMsP99: number }): string {
  return `p50 ${formatMs(result.latencyMsP50)}, p99 ${formatMs(result.latencyMsP99)}`;
}

function ratio(value: number, ceiling: number): number | undefined {
  return ceiling > 0 ? value / ceiling : undefined;
}

function reportRows(results: Results, context: Context): ReportRow[] {
  const { grpc, http, redis, memory } = results;
  const grpcRatio = ratio(grpc.session.callsPerSecond, grpc.noop.callsPerSecond);
  const httpSessionRatio = ratio(http.session.requestsPerSecond, http.noop.requestsPerSecond);
  const httpChargeRatio = ratio(http.charge.requestsPerSecond, http.noop.requestsPerSecond);
  const grpcCeiling = `gRPC no-op ${formatNumber(grpc.noop.callsPerSecond)} calls/s`;
  const httpCeiling = `HTTP no-op ${formatNumber(http.noop.requestsPerSecond)} req/s`;
  const redisCeiling = `Redis reserve pipelined ${formatNumber(redis.pipelined.callsPerSecond)} calls/s`;
  const { grpcConcurrency, httpConnections } = context.settings;
  const half = grpc.halfLoad;
  return [
    {
      measurement: `gRPC no-op RPC (BenchService/Noop, ${grpcConcurrency} gateways)`,
      result: `${formatNumber(grpc.noop.callsPerSecond)} calls/s, ${latency(grpc.noop)}`,
      ceiling: '(ceiling)', ratio: 1, target: '', passed: undefined,
    },
    {
      measurement: `gRPC session Reserve → Commit → Commit final (${grpcConcurrency} gateways)`,
      result: `${formatNumber(grpc.session.callsPerSecond)} calls/s (${formatNumber(grpc.session.flowsPerSecond)} flows/s), ${latency(grpc.session)}`,
      ceiling: grpcCeiling, ratio: grpcRatio,
      target: `≥ ${targets.grpcSessionToNoopRatioMin}`, passed: grpcRatio !== undefined && grpcRatio >= targets.grpcSessionToNoopRatioMin,
    },
    {
      measurement: `gRPC session at half load (paced at ${formatNumber(half.flowsPerSecondMax)} flows/s)`,
      result: `${formatNumber(half.callsPerSecond)} calls/s (${formatNumber(half.flowsPerSecond)} flows/s), ${latency(half)}, max ${formatMs(half.latencyMsMax)}`,
      ceiling: `p99 limit ${targets.halfLoadLatencyMsP99Max} ms`, ratio: ratio(half.latencyMsP99, targets.halfLoadLatencyMsP99Max),
      target: `p99 ≤ ${targets.halfLoadLatencyMsP99Max} ms`, passed: half.callsOk > 0 && half.latencyMsP99 <= targets.halfLoadLatencyMsP99Max,
    },
    {
      measurement: `HTTP no-op (POST /bench/noop, ${httpConnections} connections)`,
      result: `${formatNumber(http.noop.requestsPerSecond)} req/s, ${latency(http.noop)}`,
      ceiling: '(ceiling)', ratio: 1, target: '', passed: undefined,
    },
    {
      measurement: `HTTP session reserve → commit → commit final (${httpConnections} connections)`,
      result: `${formatNumber(http.session.requestsPerSecond)} req/s (${formatNumber(http.session.flowsPerSecond)} flows/s), ${latency(http.session)}`,
      ceiling: httpCeiling, ratio: httpSessionRatio,
      target: `≥ ${targets.httpChargingToNoopRatioMin}`, passed: httpSessionRatio !== undefined && httpSessionRatio >= targets.httpChargingToNoopRatioMin,
    },
    {
      measurement: `HTTP one-shot charge (${httpConnections} connections)`,
      result: `${formatNumber(http.charge.requestsPerSecond)} req/s, ${latency(http.charge)}`,
      ceiling: httpCeiling, ratio: httpChargeRatio,
      target: `≥ ${targets.httpChargingToNoopRatioMin}`, passed: httpChargeRatio !== undefined && httpChargeRatio >= targets.httpChargingToNoopRatioMin,
    },
    {
      measurement: `Redis reserve.lua EVALSHA, unpipelined (${redis.unpipelined.inFlight} in flight, 1 connection)`,
      result: `${formatNumber(redis.unpipelined.callsPerSecond)} calls/s, ${latency(redis.unpipelined)}`,
      ceiling: redisCeiling, ratio: ratio(redis.unpipelined.callsPerSecond, redis.pipelined.callsPerSecond), target: '', passed: undefined,
    },
    {
      measurement: `Redis reserve.lua EVALSHA, pipelined (${redis.pipelined.batchSize} per batch, ${redis.pipelined.inFlight} batches in flight)`,
      result: `${formatNumber(redis.pipelined.callsPerSecond)} calls/s, per batch ${latency(redis.pipelined)}`,
      ceiling: '(ceiling)', ratio: 1, target: '', passed: undefined,
    },
    {
      measurement: 'gRPC session calls vs the Redis ceiling',
      result: `${formatNumber(grpc.session.callsPerSecond)} calls/s`,
      ceiling: redisCeiling, ratio: ratio(grpc.session.callsPerSecond, redis.pipelined.callsPerSecond), target: '', passed: undefined,
    },
    {
      measurement: `Redis memory per idle provisioned device (${formatNumber(memory.idleDevices.devices)} added)`,
      result: `${formatBytes(memory.idleDevices.bytesPerDevice)} (device hash ${memory.idleDevices.sampleKeyBytes.deviceHash} B + directory entry ${memory.idleDevices.sampleKeyBytes.directoryEntry} B + keyspace)`,
      ceiling: '', ratio: undefined, target: '', passed: undefined,
    },
    {
      measurement: `Redis memory per open reservation (${formatNumber(memory.openReservations.reservations)} opened)`,
      result: `${formatBytes(memory.openReservations.bytesPerReservation)} (${breakdown(memory.openReservations)})`,
      ceiling: '', ratio: undefined, target: '', passed: undefined,
    },
    {
      measurement: `Redis memory left per ended session, until its answers expire (${formatNumber(memory.completedSessions.sessions)} run)`,
      result: `${formatBytes(memory.completedSessions.bytesPerSession)} (${endedBreakdown(memory.completedSessions)})`,
      ceiling: '', ratio: undefined, target: '', passed: undefined,
    },
  ];
}

function breakdown(memory: OpenReservationMemory): string {
  const parts = memory.breakdownBytes;
  return [
    `session ${parts.sessionHash}`, `answer ${parts.storedAnswer}`,
    `stream event ${parts.eventStreamEntry}`, `expiry entry ${parts.expiryIndexEntry}`, `keyspace+other ${parts.keyspaceAndOther}`,
  ].join(', ');
}

function endedBreakdown(memory: CompletedSessionMemory): string {
  const parts = memory.breakdownBytes;
  return [
    `answers ${parts.storedAnswers}`, `3 stream events ${parts.eventStreamEntries}`,
    `keyspace+other ${parts.keyspaceAndOther}`,
  ].join(', ');
}

async function printReport(rows: ReportRow[], results: Results, context: Context): Promise<void> {
  const { settings, environment } = context;
  const lines = [
    '',
    `## Io Billing bench — ${new Date().toISOString()}`,
    '',
    `${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}; service, redis-server and ` +
      `${settings.loadProcessCount} load-generator processes share them. PostgreSQL: ${environment.databaseSource}. ` +
      `Fleet: ${settings.customerCount} customers, ${settings.deviceCount} devices. Each load phase ${settings.durationMs} ms after a ` +
      `${settings.warmupMs} ms warm-up; Redis phases ${settings.redisDurationMs} ms. One run each: figures are noisy, ratios less so.`,
    '',
    resultsTable(rows),
    '',
    cpuTable(context.cpu),
    '',
    `Latency is client side: gRPC from the light client's send to its decoded answer, HTTP from autocannon's write to the parsed response. ` +
      `Session results: gRPC ${JSON.stringify(results.grpc.session.resultsByCode)}, HTTP ${JSON.stringify(results.http.session.resultsByCode)}.`,
  ];
  for (const note of context.notes) lines.push(`- note: ${note}`);
  for (const problem of context.problems) lines.push(`- PROBLEM: ${problem}`);
  lines.push('', 'Results written to bench/results/latest.json.', '');
  // Written out before the process exits, even where stdout is an asynchronous pipe.
  await new Promise<void>((resolve) => process.stdout.write(lines.join('\n'), () => resolve()));
}

async function writeResults(report: {
  startedAt: Date;
  finishedAt: Date;
  settings: Settings;
  context: Context;
  results: Results;
  rows: ReportRow[];
}): Promise<void> {
  const { context } = report;
  const document = {
    startedAt: report.startedAt.toISOString(),
    finishedAt: report.finishedAt.toISOString(),
    machine: { cpuCount: cpus().length, cpuModel: cpus()[0]?.model ?? null, node: process.version, platform: process.platform },
    environment: {
      databaseSource: context.environment.databaseSource,
      redisKeyPrefix: context.environment.redisKeyPrefix,
      databaseSchema: context.environment.databaseSchema,
      partitionCount,
      fleet: { customers: context.fleet.customerIds.length, devices: context.fleet.deviceIds.length, tariffId: context.fleet.tariffId },
    },
    settings: report.settings,
    targets,
    summary: report.rows,
    cpu: context.cpu,
    results: report.results,
    notes: context.notes,
    problems: context.problems,
  };
  await mkdir(dirname(resultsFile), { recursive: true });
  // Latency sample arrays are not part of the results; processes' own summaries are.
  await writeFile(resultsFile, `${JSON.stringify(document, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Process

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** On a signal or when the run takes too long: clean up, then exit. Returns the uninstaller. */
function installStopHandlers(cleanups: Cleanups, timeoutMs: number): () => void {
  let stopping = false;
  const abort = (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.error(`bench stopped: ${reason}`);
    void cleanups.runAll().finally(() => process.exit(code));
  };
  const onSigint = () => abort('SIGINT', 130);
  const onSigterm = () => abort('SIGTERM', 143);
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigterm);
  const watchdog = setTimeout(() => abort(`not finished after ${timeoutMs} ms (BENCH_TIMEOUT_MS)`, 1), timeoutMs);
  return () => {
    clearTimeout(watchdog);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
  };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
