// HTTP/JSON load with autocannon, spread over K child processes like the gRPC driver (load.ts):
// one autocannon process cannot keep a Node server busy on the same machine. Each process warms
// up, waits for the parent's start so that all measure the same window, runs, and reports.
//
// Flows:
//   noop     POST /bench/noop, the server's own ceiling (served when BENCH_NOOP_ENABLED=true)
//   session  Reserve → Commit (used, asks for more) → Commit final, over /v1/charging/*; each
//            flow gets a unique session id in setupRequest, and a flow whose step fails is
//            restarted from the Reserve with a new one
//   charge   one-shot POST /v1/charging/charge, a unique event id per request
//
// Latency is recorded per 2xx response from autocannon's own timer (request written → response
// parsed) into an exact histogram: autocannon's built-in one keeps whole milliseconds only.
import autocannon from 'autocannon';
import { addCounts, LatencySamples, latencySummary, mergedHistogram } from './latencies.js';
import { runInWorkers, shareOf, type LoadObserver } from './worker-processes.js';

export type HttpFlow =
  | { kind: 'noop' }
  | { kind: 'session'; deviceIds: readonly string[]; ratingGroup: number; requestedUnits: number; usedUnits: number }
  | { kind: 'charge'; deviceIds: readonly string[]; ratingGroup: number; units: number };

export interface HttpLoadOptions {
  /** http://host:port */
  url: string;
  flow: HttpFlow;
  /** Keep-alive connections in total, split over the processes; each runs one request at a time. */
  connections: number;
  durationMs: number;
  warmupMs: number;
  processCount: number;
  /** Prefix of session and event ids; unique per run so nothing is answered from the idempotency store. */
  runId: string;
}

export interface HttpLoadResult {
  flowKind: HttpFlow['kind'];
  processCount: number;
  connections: number;
  elapsedMs: number;
  /** 2xx responses. */
  requestsOk: number;
  /** Other statuses, connection errors and timeouts. */
  requestsFailed: number;
  requestsPerSecond: number;
  /** Flows whose every response was 2xx and, for charging, RESULT_CODE_SUCCESS. */
  flowsCompleted: number;
  flowsAborted: number;
  flowsPerSecond: number;
  latencyMsP50: number;
  latencyMsP90: number;
  latencyMsP99: number;
  latencyMsMax: number;
  latencyMsMean: number;
  statusCodes: Record<string, number>;
  /** Charging answers by their `result`. */
  resultsByCode: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Sum over processes; 100 is one full core. */
  clientCpuPercent: number;
}

interface HttpWorkerOptions extends HttpLoadOptions {
  workerIndex: number;
}

interface HttpWorkerReport {
  elapsedMs: number;
  requestsOk: number;
  requestsFailed: number;
  flowsCompleted: number;
  flowsAborted: number;
  statusCodes: Record<string, number>;
  resultsByCode: Record<string, number>;
  errors: number;
  timeouts: number;
  cpuMicros: number;
  latenciesNs: Float64Array;
}


/** autocannon stops at its next 1-second tick after the duration, and waits for nothing longer. */
const autocannonTailMs = 2_000;

export async function runHttpLoad(options: HttpLoadOptions, observer: LoadObserver = {}): Promise<HttpLoadResult> {
  if (options.connections < options.processCount) throw new RangeError('connections must be at least processCount');
  const reports = await runInWorkers<HttpWorkerOptions, HttpWorkerReport>(
    {
      workerUrl: new URL('./http-load-worker.js', import.meta.url),
      label: 'HTTP load worker',
      optionsPerWorker: Array.from({ length: options.processCount }, (_, workerIndex) => ({
        ...options, workerIndex, connections: shareOf(options.connections, options.processCount, workerIndex),
      })),
      timeoutMs: 30_000 + options.warmupMs + options.durationMs + 2 * autocannonTailMs,
    },
    observer,
  );
  return mergeReports(options, reports);
}

function mergeReports(options: HttpLoadOptions, reports: readonly HttpWorkerReport[]): HttpLoadResult {
  const histogram = mergedHistogram(reports.map((report) => report.latenciesNs));
  const elapsedMs = Math.max(...reports.map((report) => report.elapsedMs));
  const sum = (pick: (report: HttpWorkerReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const requestsOk = sum((report) => report.requestsOk);
  const flowsCompleted = sum((report) => report.flowsCompleted);
  return {
    flowKind: options.flow.kind,
    processCount: options.processCount,
    connections: options.connections,
    elapsedMs: Math.round(elapsedMs),
    requestsOk,
    requestsFailed: sum((report) => report.requestsFailed),
    requestsPerSecond: Math.round((requestsOk * 1000) / elapsedMs),
    flowsCompleted,
    flowsAborted: sum((report) => report.flowsAborted),
    flowsPerSecond: Math.round((flowsCompleted * 1000) / elapsedMs),
    ...latencySummary(histogram),
    statusCodes: addCounts(reports.map((report) => report.statusCodes)),
    resultsByCode: addCounts(reports.map((report) => report.resultsByCode)),
    errors: sum((report) => report.errors),
    timeouts: sum((report) => report.timeouts),
    clientCpuPercent: Math.round((sum((report) => report.cpuMicros) / 1000 / elapsedMs) * 100),
  };
}

// ---------------------------------------------------------------------------------------------
// One process

/** Counters of one phase; the flows write into whichever phase is current. */
class PhaseStats {
  flowsCompleted = 0;
  flowsAborted = 0;
  readonly resultsByCode: Record<string, number> = {};
  private readonly samples = new LatencySamples();

  recordLatency(latencyMs: number): void {
    this.samples.record(latencyMs);
  }

  recordResult(name: string): void {
    this.resultsByCode[name] = (this.resultsByCode[name] ?? 0) + 1;
  }

  latencies(): Float64Array {
    return this.samples.values();
  }
}

interface FlowContext {
  sessionId?: string;
  deviceId?: string;
  failed?: boolean;
}

const jsonHeaders = { 'content-type': 'application/json' };
/** The top-level `result` comes before `items` in every charging answer, so the first match is it. */
const resultPattern = /"result":"([A-Z_]+)"/;
const successName = 'RESULT_CODE_SUCCESS';

/** Builds the autocannon requests of a flow; `phase()` gives the counters to write into. */
function flowRequests(options: HttpWorkerOptions, phase: () => PhaseStats): autocannon.Request[] {
  const flow = options.flow;
  if (flow.kind === 'noop') return [{ method: 'POST', path: '/bench/noop', headers: jsonHeaders, body: '{}' }];
  // Ids count across this process's phases, so the measured phase never reuses a warm-up id.
  let idCount = 0;
  const idPrefix = `${options.runId}.h${options.workerIndex}-`;
  let deviceCursor = options.workerIndex;
  const nextDeviceId = () => {
    const deviceId = flow.deviceIds[deviceCursor % flow.deviceIds.length]!;
    deviceCursor += options.processCount;
    return deviceId;
  };
  /** True when the answer is 2xx with a SUCCESS result; counts the result either way. */
  const succeeded = (status: number, body: string): boolean => {
    const result = resultPattern.exec(body)?.[1] ?? `HTTP_${status}`;
    phase().recordResult(result);
    return status >= 200 && status < 300 && result === successName;
  };

  if (flow.kind === 'charge') {
    return [
      {
        method: 'POST',
        path: '/v1/charging/charge',
        headers: jsonHeaders,
        setupRequest: (request) => {
          request.body = JSON.stringify({ event_id: idPrefix + idCount++, device_id: nextDeviceId(), rating_group: flow.ratingGroup, units: flow.units });
          return request;
        },
        onResponse: (status, body) => {
          if (succeeded(status, body)) phase().flowsCompleted++;
          else phase().flowsAborted++;
        },
      },
    ];
  }

  const step = (path: string, body: (context: FlowContext) => object, last: boolean): autocannon.Request => ({
    method: 'POST',
    path,
    headers: jsonHeaders,
    setupRequest: (request, untypedContext) => {
      const context = untypedContext as FlowContext;
      // A falsy return makes autocannon restart the sequence from the Reserve, with a fresh context.
      if (context.failed) return undefined as unknown as autocannon.Request;
      request.body = JSON.stringify(body(context));
      return request;
    },
    onResponse: (status, responseBody, untypedContext) => {
      const context = untypedContext as FlowContext;
      if (!succeeded(status, responseBody)) {
        context.failed = true;
        phase().flowsAborted++;
      } else if (last) {
        phase().flowsCompleted++;
      }
    },
  });
  return [
    step('/v1/charging/reserve', (context) => {
      context.sessionId = idPrefix + idCount++;
      context.deviceId = nextDeviceId();
      return { session_id: context.sessionId, request_number: 1, device_id: context.deviceId, items: [{ rating_group: flow.ratingGroup, requested_units: flow.requestedUnits }] };
    }, false),
    step('/v1/charging/commit', (context) => ({
      session_id: context.sessionId, request_number: 2, device_id: context.deviceId,
      items: [{ rating_group: flow.ratingGroup, used_units: flow.usedUnits, requested_units: flow.requestedUnits }], final: false,
    }), false),
    step('/v1/charging/commit', (context) => ({
      session_id: context.sessionId, request_number: 3, device_id: context.deviceId,
      items: [{ rating_group: flow.ratingGroup, used_units: flow.usedUnits }], final: true,
    }), true),
  ];
}

function runAutocannon(options: HttpWorkerOptions, requests: autocannon.Request[], durationMs: number, stats: PhaseStats): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        pipelining: 1,
        duration: durationMs / 1000,
        timeout: 10,
        requests,
      },
      (error: unknown, result: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(result)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) stats.recordLatency(responseTime);
    });
  });
}

/** Warm up, wait for the parent's start, run the measured phase, report. */
export async function runHttpLoadInProcess(options: HttpWorkerOptions, waitForStart: () => Promise<void>): Promise<HttpWorkerReport> {
  let stats = new PhaseStats();
  const requests = flowRequests(options, () => stats);
  if (options.warmupMs > 0) await runAutocannon(options, requests, options.warmupMs, stats);
  await waitForStart();
  stats = new PhaseStats();
  const cpuBefore = process.cpuUsage();
  const result = await runAutocannon(options, requests, options.durationMs, stats);
  const cpu = process.cpuUsage(cpuBefore);
  const requestsOk = result['2xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, entry] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = Number((entry as { count: number }).count);
  return {
    elapsedMs: result.duration * 1000,
    requestsOk,
    requestsFailed: result.non2xx + result.errors,
    // A noop flow is one request with no answer to read.
    flowsCompleted: options.flow.kind === 'noop' ? requestsOk : stats.flowsCompleted,
    flowsAborted: options.flow.kind === 'noop' ? result.non2xx : stats.flowsAborted,
    statusCodes,
    resultsByCode: stats.resultsByCode,
    errors: result.errors,
    timeouts: result.timeouts,
    cpuMicros: cpu.user + cpu.system,
    latenciesNs: stats.latencies(),
  };
}
