// Closed-loop gRPC load driver.
//
// N virtual gateways each run flows back to back until a deadline or a flow count is reached,
// whichever comes first. The gateways are spread over K child processes (load-worker.ts), each
// with its own HTTP/2 connection(s): even a light Node client spends about as much CPU per call
// as a grpc-js server, so one process cannot keep the server busy. Every call is timed; results
// are merged in the parent.
//
// Use:  node dist/bench/load.js --target 127.0.0.1:50151 [--flow noop|session] [options]
//       (node dist/bench/load.js --help lists them)
// or programmatically: runLoad(options) → LoadResult.
import { createHistogram, performance } from 'node:perf_hooks';
import { addCounts, LatencySamples, latencySummary, mergedHistogram, type LatencySummary } from './latencies.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type protobuf from 'protobufjs';
import { GrpcJsUnaryClient } from './grpc-js-unary-client.js';
import { runInWorkers, shareOf, type LoadObserver } from './worker-processes.js';
import {
  GrpcCallError,
  GrpcLightClient,
  grpcStatusName,
  type PreparedRequest,
  type UnaryTransport,
  validateTarget,
} from './grpc-light-client.js';
import {
  chargingProtoFile,
  chargingServicePath,
  encodeFromObject,
  loadProtoRoot,
  protoIncludeDirDefault,
  resolveUnaryMethod,
} from './proto-messages.js';

// ---------------------------------------------------------------------------------------------
// Options and results

/** One unary call with a fixed message, the same bytes every time. */
export interface NoopFlowOptions {
  kind: 'noop';
  /** '/<package.Service>/<Method>' */
  methodPath: string;
  /** Fully qualified request type; by default the method's input type in the loaded protos. */
  requestType?: string;
  /** Fully qualified response type; by default the method's output type, if found. */
  responseType?: string;
  /** The request as protobufjs JSON: camelCase field names, enums by name or number. */
  message: Record<string, unknown>;
}

/**
 * A gateway session: Reserve(items=[{ratingGroup, requestedUnits}]), then
 * Commit(usedUnits, requestedUnits), then Commit(final=true, usedUnits), request numbers 1, 2, 3.
 * Session ids are "<runId>.<workerIndex>-<n>", n counted per process across its warm-up and
 * measured phases, so they are unique per flow (and per run, so a rerun against
 * the same Redis is not answered from the idempotency store). Device ids are taken round-robin.
 */
export interface SessionFlowOptions {
  kind: 'session';
  /** '/<package.Service>' that has Reserve and Commit. */
  servicePath: string;
  deviceIds: readonly string[];
  ratingGroup: number;
  requestedUnits: number;
  usedUnits: number;
}

export type FlowOptions = NoopFlowOptions | SessionFlowOptions;

export type TransportKind = 'light' | 'grpc-js';

export interface LoadOptions {
  /** host:port of the server under test (plaintext HTTP/2). */
  target: string;
  flow: FlowOptions;
  /** Virtual gateways in total, split over the processes. */
  concurrency: number;
  /** Measured phase; gateways start no flow after it, and finish the one they are in. */
  durationMs: number;
  /** Flows in total over the processes; the run also stops when they are all started. */
  flowsMax: number;
  /**
   * Flows started per second over the processes, evenly paced; 0: as fast as the gateways go
   * (closed loop). With a rate, the gateways are a bounded pool that starts each flow at its
   * scheduled time, so latency can be measured at a chosen load rather than at saturation.
   */
  flowsPerSecondMax: number;
  /** Unmeasured phase before, per process, for connections and JIT. */
  warmupMs: number;
  /** Child processes running the gateways. */
  processCount: number;
  /** 'grpc-js' only to compare the generator's own cost. */
  transport: TransportKind;
  /** HTTP/2 connections per process. */
  sessionCount: number;
  /** Per-call deadline sent to the server (grpc-timeout); 0 sends none. */
  deadlineMs: number;
  /** After durationMs, how long in-flight flows may take before they are cut off. */
  drainMs: number;
  protoFiles: readonly string[];
  protoIncludeDirs: readonly string[];
  /** Prefix of session ids; by default unique per run. */
  runId: string;
}

export interface ProcessSummary {
  workerIndex: number;
  concurrency: number;
  elapsedMs: number;
  callsOk: number;
  callsPerSecond: number;
  latencyMsP50: number;
  latencyMsP99: number;
  /** Client CPU time over the measured phase / elapsed time; 100 is one full core. */
  cpuPercent: number;
}

export interface LoadResult {
  target: string;
  flowKind: FlowOptions['kind'];
  transport: TransportKind;
  processCount: number;
  concurrency: number;
  /** 0: closed loop. */
  flowsPerSecondMax: number;
  /** Longest measured phase among the processes, drain included. */
  elapsedMs: number;
  /** Calls that ended with gRPC status OK (business rejections included). */
  callsOk: number;
  /** Calls that ended with another gRPC status, or a transport failure. */
  callsFailed: number;
  /** Flows whose every call was OK and, for sessions, every result was SUCCESS. */
  flowsCompleted: number;
  /** Flows cut short by a failed call or a non-SUCCESS result. */
  flowsAborted: number;
  /** callsOk / elapsed. Every call of a flow counts. */
  callsPerSecond: number;
  flowsPerSecond: number;
  /** Latency of OK calls, client side: encode, send, receive, decode. */
  latencyMsP50: number;
  latencyMsP90: number;
  latencyMsP99: number;
  latencyMsMax: number;
  latencyMsMean: number;
  /** Failed calls by gRPC status name, e.g. { UNAVAILABLE: 3 }. */
  errorsByStatus: Record<string, number>;
  /** OK calls by the response's `result` field name, when it has one. */
  resultsByCode: Record<string, number>;
  /** Sum over processes; 100 is one full core. */
  clientCpuPercent: number;
  processes: ProcessSummary[];
}

export const loadDefaults: Readonly<Omit<LoadOptions, 'target' | 'flow'>> = Object.freeze({
  concurrency: 64,
  durationMs: 10_000,
  flowsMax: 5_000_000,
  flowsPerSecondMax: 0,
  warmupMs: 1_000,
  processCount: 2,
  transport: 'light',
  sessionCount: 1,
  deadlineMs: 0,
  drainMs: 5_000,
  protoFiles: [chargingProtoFile],
  protoIncludeDirs: [protoIncludeDirDefault],
  runId: '',
});

/** Exact merging keeps every latency (8 bytes each); this bounds the memory that takes. */
const latencySamplesMax = 16_000_000;

export const sessionFlowDefaults: Readonly<Omit<SessionFlowOptions, 'deviceIds'>> = Object.freeze({
  kind: 'session',
  servicePath: chargingServicePath,
  ratingGroup: 10,
  requestedUnits: 1_000_000,
  usedUnits: 800_000,
});

// ---------------------------------------------------------------------------------------------
// Fan-out: one child process per share of the gateways

/** What one process runs: its share of the gateways and flows. */
export interface WorkerOptions extends Omit<LoadOptions, 'concurrency' | 'flowsMax'> {
  workerIndex: number;
  concurrency: number;
  flowsMax: number;
}

/** What one process reports. */
export interface WorkerReport {
  workerIndex: number;
  concurrency: number;
  elapsedMs: number;
  callsOk: number;
  callsFailed: number;
  flowsCompleted: number;
  flowsAborted: number;
  errorsByStatus: Record<string, number>;
  resultsByCode: Record<string, number>;
  cpuMicros: number;
  /** From this process's own histogram. */
  latency: LatencySummary;
  /** Every OK call's latency in ns, in a compact array that structured clone copies as is. */
  latenciesNs: Float64Array;
}

export type LoadInput = Partial<Omit<LoadOptions, 'target' | 'flow'>> & Pick<LoadOptions, 'target' | 'flow'>;

/**
 * Runs the load in options.processCount child processes and merges their results.
 *
 * Percentiles are merged exactly: each worker sends every OK call's latency as a Float64Array
 * (bounded by flowsMax × calls per flow, checked up front) and the parent records them all into
 * one histogram. Averaging per-process percentiles would be wrong whenever the processes see
 * different latency distributions, which they do when they compete for the same cores.
 */
export async function runLoad(input: LoadInput, observer: LoadObserver = {}): Promise<LoadResult> {
  const options = completeOptions(input);
  const reports = await runInWorkers<WorkerOptions, WorkerReport>(
    {
      workerUrl: new URL('./load-worker.js', import.meta.url),
      label: 'load worker',
      optionsPerWorker: Array.from({ length: options.processCount }, (_, workerIndex) => workerOptions(options, workerIndex)),
      timeoutMs: 30_000 + options.warmupMs + options.durationMs + options.drainMs,
    },
    observer,
  );
  return mergeReports(options, reports);
}

function completeOptions(input: LoadInput): LoadOptions {
  const options: LoadOptions = { ...loadDefaults, ...input };
  validateTarget(options.target);
  if (options.runId === '') options.runId = Date.now().toString(36);
  const positiveIntegers = ['concurrency', 'processCount', 'sessionCount', 'flowsMax'] as const;
  for (const name of positiveIntegers) {
    if (!Number.isSafeInteger(options[name]) || options[name] < 1) throw new RangeError(`${name} must be a positive integer`);
  }
  if (options.concurrency < options.processCount) throw new RangeError('concurrency must be at least processCount');
  if (!(options.durationMs > 0) || !(options.warmupMs >= 0) || !(options.drainMs >= 0) || !(options.deadlineMs >= 0)) {
    throw new RangeError('durationMs must be positive; warmupMs, drainMs and deadlineMs not negative');
  }
  if (!(options.flowsPerSecondMax >= 0) || !Number.isFinite(options.flowsPerSecondMax)) {
    throw new RangeError('flowsPerSecondMax must be 0 (no limit) or a positive number');
  }
  if (options.flowsMax * callsPerFlow(options.flow) > latencySamplesMax) {
    throw new RangeError(`flowsMax × calls per flow must be at most ${latencySamplesMax}, to bound latency samples`);
  }
  if (options.flow.kind === 'session' && options.flow.deviceIds.length === 0) {
    throw new RangeError('a session flow needs at least one device id');
  }
  return options;
}

/** Splits gateways and flows as evenly as integers allow; the first processes take the rest. */
function workerOptions(options: LoadOptions, workerIndex: number): WorkerOptions {
  const share = (total: number) => shareOf(total, options.processCount, workerIndex);
  return {
    ...options,
    workerIndex,
    concurrency: share(options.concurrency),
    flowsMax: share(options.flowsMax),
    // Each process paces its own share; together they make the requested rate.
    flowsPerSecondMax: options.flowsPerSecondMax / options.processCount,
  };
}

function mergeReports(options: LoadOptions, reports: readonly WorkerReport[]): LoadResult {
  const histogram = mergedHistogram(reports.map((report) => report.latenciesNs));
  const elapsedMs = Math.max(...reports.map((report) => report.elapsedMs));
  const sum = (pick: (report: WorkerReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const callsOk = sum((report) => report.callsOk);
  const flowsCompleted = sum((report) => report.flowsCompleted);
  return {
    target: options.target,
    flowKind: options.flow.kind,
    transport: options.transport,
    processCount: options.processCount,
    concurrency: options.concurrency,
    flowsPerSecondMax: options.flowsPerSecondMax,
    elapsedMs: round(elapsedMs, 1),
    callsOk,
    callsFailed: sum((report) => report.callsFailed),
    flowsCompleted,
    flowsAborted: sum((report) => report.flowsAborted),
    callsPerSecond: Math.round((callsOk * 1000) / elapsedMs),
    flowsPerSecond: Math.round((flowsCompleted * 1000) / elapsedMs),
    ...latencySummary(histogram),
    errorsByStatus: addCounts(reports.map((report) => report.errorsByStatus)),
    resultsByCode: addCounts(reports.map((report) => report.resultsByCode)),
    clientCpuPercent: round(sum((report) => (report.cpuMicros / 1000 / report.elapsedMs) * 100), 1),
    processes: reports.map(processSummary),
  };
}

function processSummary(report: WorkerReport): ProcessSummary {
  return {
    workerIndex: report.workerIndex,
    concurrency: report.concurrency,
    elapsedMs: round(report.elapsedMs, 1),
    callsOk: report.callsOk,
    callsPerSecond: Math.round((report.callsOk * 1000) / report.elapsedMs),
    latencyMsP50: report.latency.latencyMsP50,
    latencyMsP99: report.latency.latencyMsP99,
    cpuPercent: round((report.cpuMicros / 1000 / report.elapsedMs) * 100, 1),
  };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function callsPerFlow(flow: FlowOptions): number {
  return flow.kind === 'noop' ? 1 : 3;
}

// ---------------------------------------------------------------------------------------------
// One process: gateways, flows, measurements

/**
 * Runs one process's share in this process: connect, warm up, call waitForStart (the worker
 * waits there for the parent's signal so that all processes measure the same window), measure.
 */
export async function runLoadInProcess(options: WorkerOptions, waitForStart: () => Promise<void>): Promise<WorkerReport> {
  const transport = createTransport(options);
  try {
    await transport.connect();
    const flow = await createFlowFactory(options, transport);
    if (options.warmupMs > 0) await runPhase(options, flow, new PhaseStats(0), options.warmupMs, Number.MAX_SAFE_INTEGER);
    await waitForStart();
    const stats = new PhaseStats(options.flowsMax * callsPerFlow(options.flow));
    const cpuBefore = process.cpuUsage();
    const elapsedMs = await runPhase(options, flow, stats, options.durationMs, options.flowsMax);
    const cpu = process.cpuUsage(cpuBefore);
    return stats.report(options, elapsedMs, cpu.user + cpu.system);
  } finally {
    await transport.close();
  }
}

function createTransport(options: WorkerOptions): UnaryTransport {
  const clientOptions = { target: options.target, sessionCount: options.sessionCount, deadlineMs: options.deadlineMs };
  return options.transport === 'grpc-js' ? new GrpcJsUnaryClient(clientOptions) : new GrpcLightClient(clientOptions);
}

/** Counters and latencies of one phase of one process. */
class PhaseStats {
  readonly histogram = createHistogram();
  callsOk = 0;
  callsFailed = 0;
  flowsCompleted = 0;
  flowsAborted = 0;
  readonly errorsByStatus: Record<string, number> = {};
  readonly resultsByCode: Record<string, number> = {};
  private readonly samples: LatencySamples;

  /** samplesMax 0 keeps no samples (the warm-up phase). */
  constructor(private readonly samplesMax: number) {
    this.samples = new LatencySamples(samplesMax);
  }

  recordOk(latencyMs: number): void {
    this.callsOk++;
    // Cannot overflow: a phase makes at most flowsMax × calls per flow OK calls = samplesMax.
    if (this.samplesMax > 0) this.histogram.record(this.samples.record(latencyMs));
  }

  recordError(error: unknown): void {
    this.callsFailed++;
    const status = error instanceof GrpcCallError ? grpcStatusName(error.code) : 'CLIENT_ERROR';
    this.errorsByStatus[status] = (this.errorsByStatus[status] ?? 0) + 1;
  }

  recordResult(resultName: string): void {
    this.resultsByCode[resultName] = (this.resultsByCode[resultName] ?? 0) + 1;
  }

  report(options: WorkerOptions, elapsedMs: number, cpuMicros: number): WorkerReport {
    return {
      workerIndex: options.workerIndex,
      concurrency: options.concurrency,
      elapsedMs,
      callsOk: this.callsOk,
      callsFailed: this.callsFailed,
      flowsCompleted: this.flowsCompleted,
      flowsAborted: this.flowsAborted,
      errorsByStatus: this.errorsByStatus,
      resultsByCode: this.resultsByCode,
      cpuMicros,
      latency: latencySummary(this.histogram),
      latenciesNs: this.samples.values(),
    };
  }
}

/** One flow, run by one gateway; resolves with whether it completed. */
type Flow = (stats: PhaseStats, sequence: number) => Promise<boolean>;
/** Makes one gateway's flow; a gateway keeps its own reusable request objects. */
type FlowFactory = () => Flow;

/**
 * Runs `concurrency` gateways until the phase deadline or flowsMax flows have started.
 * Resolves with the phase's elapsed time, in-flight flows included, cut off after drainMs.
 *
 * With flowsPerSecondMax, flow n is due at start + n / rate: a free gateway takes the next
 * number and waits for its time. Timers fire to the millisecond, so flows leave in small
 * bursts at most 1 ms late; a flow that finds every gateway busy starts late, and its calls
 * are timed from when they are sent (the pool must be large enough for the rate).
 */
async function runPhase(
  options: WorkerOptions,
  createFlow: FlowFactory,
  stats: PhaseStats,
  durationMs: number,
  flowsMax: number,
): Promise<number> {
  const startedMs = performance.now();
  const deadlineMs = startedMs + durationMs;
  const intervalMs = options.flowsPerSecondMax > 0 ? 1000 / options.flowsPerSecondMax : 0;
  let flowsStarted = 0;
  const runGateway = async () => {
    const flow = createFlow();
    while (flowsStarted < flowsMax && performance.now() < deadlineMs) {
      const sequence = flowsStarted++;
      if (intervalMs > 0) {
        const dueMs = startedMs + sequence * intervalMs;
        if (dueMs >= deadlineMs) break;
        const waitMs = dueMs - performance.now();
        if (waitMs >= 1) await sleep(waitMs);
      }
      await flow(stats, sequence);
    }
  };
  const gateways = Promise.all(Array.from({ length: options.concurrency }, runGateway));
  let drainTimer: NodeJS.Timeout | undefined;
  const drainLimit = new Promise<void>((resolve) => {
    drainTimer = setTimeout(resolve, durationMs + options.drainMs);
  });
  await Promise.race([gateways, drainLimit]);
  clearTimeout(drainTimer);
  return performance.now() - startedMs;
}

/** Times one call; resolves with the response bytes, or undefined when the call failed. */
async function timedCall(
  stats: PhaseStats,
  transport: UnaryTransport,
  methodPath: string,
  request: PreparedRequest,
): Promise<Uint8Array | undefined> {
  const startedMs = performance.now();
  try {
    const response = await transport.unary(methodPath, request);
    stats.recordOk(performance.now() - startedMs);
    return response;
  } catch (error) {
    stats.recordError(error);
    return undefined;
  }
}

async function createFlowFactory(options: WorkerOptions, transport: UnaryTransport): Promise<FlowFactory> {
  const root = await loadProtoRoot(options.protoFiles, options.protoIncludeDirs);
  return options.flow.kind === 'noop'
    ? noopFlowFactory(options.flow, root, transport)
    : sessionFlowFactory(options, options.flow, root, transport);
}

function noopFlowFactory(flow: NoopFlowOptions, root: protobuf.Root, transport: UnaryTransport): FlowFactory {
  const method = resolveUnaryMethod(root, flow.methodPath, flow.requestType, flow.responseType);
  const request = transport.prepareRequest(encodeFromObject(method.requestType, flow.message));
  const responseType = method.responseType;
  const noop: Flow = async (stats) => {
    const response = await timedCall(stats, transport, flow.methodPath, request);
    if (response === undefined) {
      stats.flowsAborted++;
      return false;
    }
    // Decoded like a real client would, so the generator's cost is not understated.
    responseType?.decode(response);
    stats.flowsCompleted++;
    return true;
  };
  return () => noop;
}

interface ResultReader {
  /** The response's result name, e.g. "RESULT_CODE_SUCCESS". */
  read(response: Uint8Array): string;
  successName: string;
}

function resultReader(responseType: protobuf.Type): ResultReader {
  const field = responseType.fields['result'];
  const resultEnum = field?.resolvedType;
  if (resultEnum === null || resultEnum === undefined || !('valuesById' in resultEnum)) {
    throw new RangeError(`${responseType.fullName} has no enum field "result"`);
  }
  const names = resultEnum.valuesById;
  return {
    read: (response) => {
      const code = (responseType.decode(response) as unknown as { result: number }).result;
      return names[code] ?? `RESULT_${code}`;
    },
    successName: 'RESULT_CODE_SUCCESS',
  };
}

function sessionFlowFactory(
  options: WorkerOptions,
  flow: SessionFlowOptions,
  root: protobuf.Root,
  transport: UnaryTransport,
): FlowFactory {
  const reserve = resolveUnaryMethod(root, `${flow.servicePath}/Reserve`);
  const commit = resolveUnaryMethod(root, `${flow.servicePath}/Commit`);
  if (reserve.responseType === undefined || commit.responseType === undefined) {
    throw new RangeError(`${flow.servicePath}: Reserve and Commit need response types`);
  }
  const reserveResult = resultReader(reserve.responseType);
  const commitResult = resultReader(commit.responseType);
  const sessionIdPrefix = `${options.runId}.${options.workerIndex}-`;
  // Not the phase's sequence number: it starts again at 0 in the measured phase, and a session
  // id reused from the warm-up would be answered from the idempotency store (or refused).
  let sessionsStarted = 0;
  // Round-robin over all processes: process p takes devices p, p + K, p + 2K, …
  let deviceCursor = options.workerIndex;
  const nextDeviceId = () => {
    const deviceId = flow.deviceIds[deviceCursor % flow.deviceIds.length]!;
    deviceCursor += options.processCount;
    return deviceId;
  };

  return () => {
    // Request objects are reused across this gateway's flows: only ids and times change.
    const eventTime = { seconds: 0, nanos: 0 };
    const reserveRequest = {
      sessionId: '',
      requestNumber: 1,
      deviceId: '',
      eventTime,
      items: [{ ratingGroup: flow.ratingGroup, requestedUnits: flow.requestedUnits }],
    };
    const updateRequest = {
      sessionId: '',
      requestNumber: 2,
      deviceId: '',
      eventTime,
      items: [{ ratingGroup: flow.ratingGroup, usedUnits: flow.usedUnits, requestedUnits: flow.requestedUnits }],
      final: false,
    };
    const finalRequest = {
      sessionId: '',
      requestNumber: 3,
      deviceId: '',
      eventTime,
      items: [{ ratingGroup: flow.ratingGroup, usedUnits: flow.usedUnits, requestedUnits: 0 }],
      final: true,
    };
    const step = async (
      stats: PhaseStats,
      methodPath: string,
      type: protobuf.Type,
      message: object,
      reader: ResultReader,
    ): Promise<boolean> => {
      const nowMs = Date.now();
      eventTime.seconds = Math.floor(nowMs / 1000);
      eventTime.nanos = (nowMs % 1000) * 1_000_000;
      const request = transport.prepareRequest(type.encode(message).finish());
      const response = await timedCall(stats, transport, methodPath, request);
      if (response === undefined) return false;
      const resultName = reader.read(response);
      stats.recordResult(resultName);
      return resultName === reader.successName;
    };

    return async (stats) => {
      const sessionId = sessionIdPrefix + sessionsStarted++;
      const deviceId = nextDeviceId();
      reserveRequest.sessionId = updateRequest.sessionId = finalRequest.sessionId = sessionId;
      reserveRequest.deviceId = updateRequest.deviceId = finalRequest.deviceId = deviceId;
      const completed =
        (await step(stats, reserve.methodPath, reserve.requestType, reserveRequest, reserveResult)) &&
        (await step(stats, commit.methodPath, commit.requestType, updateRequest, commitResult)) &&
        (await step(stats, commit.methodPath, commit.requestType, finalRequest, commitResult));
      if (completed) stats.flowsCompleted++;
      else stats.flowsAborted++;
      return completed;
    };
  };
}

// ---------------------------------------------------------------------------------------------
// Command line

const usage = `node dist/bench/load.js --target host:port [options]
  --flow noop|session          default noop
  --method /pkg.Service/Method noop: the method (default ${chargingServicePath}/GetBalance)
  --request-type NAME          noop: request type (default: the method's input type)
  --response-type NAME         noop: response type (default: the method's output type)
  --message JSON               noop: request as protobufjs JSON (default {"deviceId":"bench-noop"})
  --device-ids a,b,c           session: devices, round-robin (default bench-device-0..99)
  --rating-group N             session: default ${sessionFlowDefaults.ratingGroup}
  --requested-units N          session: default ${sessionFlowDefaults.requestedUnits}
  --used-units N               session: default ${sessionFlowDefaults.usedUnits}
  --concurrency N              gateways in total (default ${loadDefaults.concurrency})
  --duration-ms N              default ${loadDefaults.durationMs}
  --flows-max N                default ${loadDefaults.flowsMax}
  --flows-per-second N         pace flow starts over all processes (default 0: closed loop)
  --warmup-ms N                default ${loadDefaults.warmupMs}
  --processes N                default ${loadDefaults.processCount}
  --sessions N                 HTTP/2 connections per process (default ${loadDefaults.sessionCount})
  --transport light|grpc-js    default light
  --deadline-ms N              default none
  --proto FILE                 repeatable; default the charging proto
  --proto-include DIR          repeatable; default proto/
  --json                       print the LoadResult as JSON`;

function parseCommandLine(argv: string[]): LoadInput | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      target: { type: 'string' },
      flow: { type: 'string', default: 'noop' },
      method: { type: 'string', default: `${chargingServicePath}/GetBalance` },
      'request-type': { type: 'string' },
      'response-type': { type: 'string' },
      message: { type: 'string', default: '{"deviceId":"bench-noop"}' },
      'device-ids': { type: 'string' },
      'rating-group': { type: 'string' },
      'requested-units': { type: 'string' },
      'used-units': { type: 'string' },
      concurrency: { type: 'string' },
      'duration-ms': { type: 'string' },
      'flows-max': { type: 'string' },
      'flows-per-second': { type: 'string' },
      'warmup-ms': { type: 'string' },
      processes: { type: 'string' },
      sessions: { type: 'string' },
      transport: { type: 'string', default: 'light' },
      'deadline-ms': { type: 'string' },
      proto: { type: 'string', multiple: true },
      'proto-include': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || values.target === undefined) return undefined;
  const integer = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
  const flow: FlowOptions =
    values.flow === 'session'
      ? {
          ...sessionFlowDefaults,
          deviceIds: values['device-ids']?.split(',') ?? Array.from({ length: 100 }, (_, index) => `bench-device-${index}`),
          ratingGroup: integer(values['rating-group'], sessionFlowDefaults.ratingGroup),
          requestedUnits: integer(values['requested-units'], sessionFlowDefaults.requestedUnits),
          usedUnits: integer(values['used-units'], sessionFlowDefaults.usedUnits),
        }
      : {
          kind: 'noop',
          methodPath: values.method!,
          requestType: values['request-type'],
          responseType: values['response-type'],
          message: JSON.parse(values.message!) as Record<string, unknown>,
        };
  if (values.flow !== 'noop' && values.flow !== 'session') throw new RangeError(`unknown flow "${values.flow}"`);
  if (values.transport !== 'light' && values.transport !== 'grpc-js') throw new RangeError(`unknown transport "${values.transport}"`);
  return {
    target: values.target,
    flow,
    concurrency: integer(values.concurrency, loadDefaults.concurrency),
    durationMs: integer(values['duration-ms'], loadDefaults.durationMs),
    flowsMax: integer(values['flows-max'], loadDefaults.flowsMax),
    flowsPerSecondMax: integer(values['flows-per-second'], loadDefaults.flowsPerSecondMax),
    warmupMs: integer(values['warmup-ms'], loadDefaults.warmupMs),
    processCount: integer(values.processes, loadDefaults.processCount),
    sessionCount: integer(values.sessions, loadDefaults.sessionCount),
    transport: values.transport,
    deadlineMs: integer(values['deadline-ms'], loadDefaults.deadlineMs),
    protoFiles: values.proto ?? loadDefaults.protoFiles,
    protoIncludeDirs: values['proto-include'] ?? loadDefaults.protoIncludeDirs,
  };
}

/** A few lines a person reads; --json gives everything. */
export function formatLoadResult(result: LoadResult): string {
  const errors = Object.entries(result.errorsByStatus).map(([status, count]) => `${status}=${count}`);
  const results = Object.entries(result.resultsByCode).map(([name, count]) => `${name}=${count}`);
  const lines = [
    `${result.flowKind} via ${result.transport}, ${result.processCount} process(es), ${result.concurrency} gateways` +
      `${result.flowsPerSecondMax > 0 ? `, paced at ${result.flowsPerSecondMax} flows/s` : ''}, ${(result.elapsedMs / 1000).toFixed(1)} s`,
    `  calls/s ${result.callsPerSecond}  flows/s ${result.flowsPerSecond}  ok ${result.callsOk}  failed ${result.callsFailed}`,
    `  latency ms  p50 ${result.latencyMsP50}  p90 ${result.latencyMsP90}  p99 ${result.latencyMsP99}  max ${result.latencyMsMax}`,
    `  client cpu ${result.clientCpuPercent}% (${result.processes.map((summary) => `${summary.cpuPercent}%`).join(' + ')})`,
  ];
  if (errors.length > 0) lines.push(`  errors ${errors.join(' ')}`);
  if (results.length > 0) lines.push(`  results ${results.join(' ')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const input = parseCommandLine(process.argv.slice(2));
  if (input === undefined) {
    console.log(usage);
    return;
  }
  const result = await runLoad(input);
  console.log(process.argv.includes('--json') ? JSON.stringify(result, null, 2) : formatLoadResult(result));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
