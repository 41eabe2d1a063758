// The Redis ceiling: the project's own reserve script (lua/reserve.lua, includes inlined) called
// directly with EVALSHA, with the call JSON built as ChargingService builds it, on provisioned
// devices, one new session per call. What this reaches is the most any number of service
// instances could get from this one Redis for a Reserve.
import { createHash } from 'node:crypto';
import { createHistogram } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { Directory } from '../src/balance/directory.js';
import type { KeySpace } from '../src/balance/keys.js';
import { loadScript } from '../src/balance/scripts.js';
import { CatalogCache } from '../src/charging/catalog-cache.js';
import { periodsAt } from '../src/charging/periods.js';
import { ItemPricer, NEW_POSITION, newScriptItem } from '../src/charging/pricing.js';
import { FINAL_UNIT_ACTION_CODES } from '../src/charging/responses.js';
import type { Config } from '../src/config.js';

/** One device's reserve call, with the session id left out: before + sessionId + after. */
export interface ReserveCallTemplate {
  deviceId: string;
  streamKey: string;
  partitionPrefix: string;
  jsonBeforeSessionId: string;
  jsonAfterSessionId: string;
}

export interface ReserveRequest {
  ratingGroup: number;
  requestedUnits: bigint;
}

/** Occurs in no other field of these calls: the bench's ids, the digests and the numbers never hold it. */
const sessionIdMarker = '@@session-id@@';

/**
 * Resolves each device through the same catalog cache the service uses and builds the call as
 * ChargingService.runSession does: same fields, same order, prices from the same pricing code.
 */
export async function reserveCallTemplates(
  redis: Redis,
  keys: KeySpace,
  config: Config,
  deviceIds: readonly string[],
  request: ReserveRequest,
  nowMs: number,
): Promise<ReserveCallTemplate[]> {
  const catalog = new CatalogCache(new Directory(redis, keys), deviceIds.length);
  await catalog.loadRatingGroups();
  const templates: ReserveCallTemplate[] = [];
  for (const deviceId of deviceIds) {
    const device = await catalog.resolveDevice(deviceId);
    if (device === undefined) throw new Error(`reserve call: device ${deviceId} is not provisioned`);
    const prices = await catalog.pricesAt(deviceId, device, nowMs);
    const unit = catalog.ratingGroup(request.ratingGroup)?.unit ?? 'bytes';
    const pricer = prices === undefined ? undefined : new ItemPricer(prices, request.ratingGroup, unit, undefined, undefined, nowMs, 'items[0].used_units');
    if (pricer?.rule === undefined) throw new Error(`reserve call: nothing prices rating group ${request.ratingGroup} for ${deviceId}`);
    const periods = periodsAt(device.profile.timeZone, nowMs);
    const items = [newScriptItem(request.ratingGroup, pricer, 0n, request.requestedUnits, NEW_POSITION, 0n, periods.month)];
    const call = {
      sid: sessionIdMarker, rq: '1', fp: fingerprint(['reserve', deviceId, nowMs, null, null, [[request.ratingGroup, '0', request.requestedUnits.toString()]], false, []]),
      dev: deviceId, cus: device.customerId, now: String(nowMs), at: String(nowMs),
      vms: String(config.validitySeconds * 1000), grace: String(config.expiryGraceSeconds * 1000),
      ttl: String(config.idempotencyTtlSeconds), amax: String(config.sessionAnswersMax),
      alim: String(config.allowancesPerRatingGroupMax), day: periods.day, mon: periods.month,
      fua: FINAL_UNIT_ACTION_CODES[pricer.finalUnitAction],
      final: false, items, rgs: [],
    };
    const [before, after] = JSON.stringify(call).split(sessionIdMarker);
    const partition = keys.partitionOf(device.customerId);
    templates.push({
      deviceId, streamKey: keys.stream(partition), partitionPrefix: keys.partitionPrefix(partition),
      jsonBeforeSessionId: before!, jsonAfterSessionId: after!,
    });
  }
  return templates;
}

function fingerprint(parts: unknown[]): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('base64url');
}

export async function loadReserveScript(redis: Redis): Promise<string> {
  return (await redis.script('LOAD', loadScript('reserve'))) as string;
}

/** Calls reserve for new sessions, round-robin over the templates. */
export class ReserveCaller {
  private callCount = 0;
  /** Script statuses (OK, NEED…) since the last reset. */
  statuses: Record<string, number> = {};

  constructor(
    private readonly redis: Redis,
    private readonly sha: string,
    private readonly templates: readonly ReserveCallTemplate[],
    private readonly sessionIdPrefix: string,
  ) {}

  private next(): [string, string, string] {
    const sequence = this.callCount++;
    const template = this.templates[sequence % this.templates.length]!;
    const json = template.jsonBeforeSessionId + this.sessionIdPrefix + sequence + template.jsonAfterSessionId;
    return [template.streamKey, template.partitionPrefix, json];
  }

  record(reply: unknown): void {
    const status = Array.isArray(reply) ? String(reply[0]) : 'UNEXPECTED_REPLY';
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
  }

  async one(): Promise<void> {
    const [streamKey, prefix, json] = this.next();
    this.record(await this.redis.evalsha(this.sha, 1, streamKey, prefix, json));
  }

  async batch(size: number): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (let index = 0; index < size; index++) {
      const [streamKey, prefix, json] = this.next();
      pipeline.evalsha(this.sha, 1, streamKey, prefix, json);
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error, reply] of results) {
      if (error) this.statuses['ERROR'] = (this.statuses['ERROR'] ?? 0) + 1;
      else this.record(reply);
    }
  }
}

export interface RedisCeilingResult {
  mode: 'unpipelined' | 'pipelined';
  /** Calls in flight (unpipelined) or batches in flight (pipelined). */
  inFlight: number;
  /** Calls per pipeline; 1 when unpipelined. */
  batchSize: number;
  elapsedMs: number;
  calls: number;
  callsPerSecond: number;
  /** Per call (unpipelined) or per batch (pipelined), as the client sees it. */
  latencyMsP50: number;
  latencyMsP99: number;
  statuses: Record<string, number>;
}

export interface RedisCeilingOptions {
  mode: 'unpipelined' | 'pipelined';
  inFlight: number;
  batchSize: number;
  durationMs: number;
}

/** Runs `inFlight` loops of calls (or of batches) until the duration has passed. */
export async function runRedisCeiling(caller: ReserveCaller, options: RedisCeilingOptions): Promise<RedisCeilingResult> {
  const histogram = createHistogram();
  caller.statuses = {};
  const batchSize = options.mode === 'pipelined' ? options.batchSize : 1;
  const startedMs = performance.now();
  const deadlineMs = startedMs + options.durationMs;
  let calls = 0;
  const loop = async () => {
    while (performance.now() < deadlineMs) {
      const callStartedMs = performance.now();
      if (batchSize === 1) await caller.one();
      else await caller.batch(batchSize);
      histogram.record(Math.max(1, Math.round((performance.now() - callStartedMs) * 1e6)));
      calls += batchSize;
    }
  };
  await Promise.all(Array.from({ length: options.inFlight }, loop));
  const elapsedMs = performance.now() - startedMs;
  const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;
  return {
    mode: options.mode,
    inFlight: options.inFlight,
    batchSize,
    elapsedMs: Math.round(elapsedMs),
    calls,
    callsPerSecond: Math.round((calls * 1000) / elapsedMs),
    latencyMsP50: ms(histogram.percentile(50)),
    latencyMsP99: ms(histogram.percentile(99)),
    statuses: { ...caller.statuses },
  };
}
