// Redis memory per idle provisioned device and per open reservation, from INFO memory's
// used_memory before and after adding K of them to a quiet Redis. used_memory counts every
// allocation, so the difference includes the keyspace's own bookkeeping (dictionary entries,
// expiry entries, and any dictionary that doubled on the way), which is what a fleet costs.
import type { Redis } from 'ioredis';
import type { KeySpace } from '../src/balance/keys.js';
import { Projection } from '../src/balance/projection.js';
import { forEachLimited } from './fleet.js';
import type { ReserveCaller } from './redis-reserve.js';

export async function usedMemoryBytes(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  const match = /\r?\nused_memory:(\d+)\r?\n/.exec(`\n${info}`);
  if (match === null) throw new Error('INFO memory has no used_memory');
  return Number(match[1]);
}

async function keyBytes(redis: Redis, key: string): Promise<number> {
  // SAMPLES 0 counts every element, not an estimate from a few.
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

async function keysBytes(redis: Redis, keys: readonly string[]): Promise<number> {
  let total = 0;
  for (const key of keys) total += await keyBytes(redis, key);
  return total;
}

export interface IdleDeviceMemory {
  devices: number;
  usedMemoryBytesBefore: number;
  usedMemoryBytesAfter: number;
  bytesPerDevice: number;
  /** MEMORY USAGE of one device's two keys: its hash and its directory entry. */
  sampleKeyBytes: { deviceHash: number; directoryEntry: number };
}

/**
 * Writes K devices exactly as provisioning does, through the real Projection (device hash and
 * directory entry), for customers created before the first reading, so only devices are counted.
 */
export async function measureIdleDevices(
  redis: Redis,
  keys: KeySpace,
  options: { deviceCount: number; customerCount: number; currency: string; tariffId: string; deviceId: (index: number) => string },
): Promise<IdleDeviceMemory> {
  const projection = new Projection(redis, keys);
  const customerIds = Array.from({ length: options.customerCount }, (_, index) => `bench-memory-customer-${String(index).padStart(5, '0')}`);
  await forEachLimited(customerIds, 32, (id) =>
    projection.customer({ id, currency: options.currency, timeZone: 'UTC', tariffId: options.tariffId }, 0n),
  );
  const before = await usedMemoryBytes(redis);
  await forEachLimited(Array.from({ length: options.deviceCount }, (_, index) => index), 64, (index) =>
    projection.device({
      id: options.deviceId(index), customerId: customerIds[index % customerIds.length]!, status: 'active', dailyCapMicros: null, monthlyCapMicros: null,
    }),
  );
  const after = await usedMemoryBytes(redis);
  const sampleDevice = options.deviceId(0);
  return {
    devices: options.deviceCount,
    usedMemoryBytesBefore: before,
    usedMemoryBytesAfter: after,
    bytesPerDevice: Math.round((after - before) / options.deviceCount),
    sampleKeyBytes: {
      deviceHash: await keyBytes(redis, keys.device(customerIds[0]!, sampleDevice)),
      directoryEntry: await keyBytes(redis, keys.deviceDirectory(sampleDevice)),
    },
  };
}

export interface OpenReservationMemory {
  reservations: number;
  usedMemoryBytesBefore: number;
  usedMemoryBytesAfter: number;
  bytesPerReservation: number;
  sessionIdExample: string;
  /** Where the bytes went, per reservation; the rest is keyspace bookkeeping. */
  breakdownBytes: {
    sessionHash: number;
    storedAnswer: number;
    eventStreamEntry: number;
    expiryIndexEntry: number;
    keyspaceAndOther: number;
  };
  statuses: Record<string, number>;
}

/**
 * Opens K reservations (held sessions, one Reserve each, never committed) through the reserve
 * script, in pipelines of `batchSize`, on provisioned devices.
 */
export async function measureOpenReservations(
  redis: Redis,
  keys: KeySpace,
  caller: ReserveCaller,
  options: { reservationCount: number; batchSize: number; sessionIdPrefix: string; firstSession: { partitionPrefix: string; deviceId: string } },
): Promise<OpenReservationMemory> {
  const partitions = Array.from({ length: keys.partitionCount }, (_, partition) => partition);
  const streams = partitions.map((partition) => keys.stream(partition));
  const expiryIndexes = partitions.map((partition) => keys.expiryIndex(partition));
  const streamBytesBefore = await keysBytes(redis, streams);
  const expiryBytesBefore = await keysBytes(redis, expiryIndexes);
  caller.statuses = {};
  const before = await usedMemoryBytes(redis);
  for (let opened = 0; opened < options.reservationCount; opened += options.batchSize) {
    await caller.batch(Math.min(options.batchSize, options.reservationCount - opened));
  }
  const after = await usedMemoryBytes(redis);
  const count = options.reservationCount;
  const perReservation = (bytes: number) => Math.round(bytes / count);
  const sessionId = `${options.sessionIdPrefix}0`;
  const prefix = options.firstSession.partitionPrefix;
  // Sessions are their device's own: `s:<device> <session>` (src/balance/keys.ts).
  const sessionName = `${options.firstSession.deviceId} ${sessionId}`;
  const sessionHash = await keyBytes(redis, `${prefix}s:${sessionName}`);
  const storedAnswer = await keyBytes(redis, `${prefix}sa:${sessionName}`);
  const eventStreamEntry = perReservation((await keysBytes(redis, streams)) - streamBytesBefore);
  const expiryIndexEntry = perReservation((await keysBytes(redis, expiryIndexes)) - expiryBytesBefore);
  const bytesPerReservation = perReservation(after - before);
  return {
    reservations: count,
    usedMemoryBytesBefore: before,
    usedMemoryBytesAfter: after,
    bytesPerReservation,
    sessionIdExample: sessionId,
    breakdownBytes: {
      sessionHash, storedAnswer, eventStreamEntry, expiryIndexEntry,
      keyspaceAndOther: bytesPerReservation - sessionHash - storedAnswer - eventStreamEntry - expiryIndexEntry,
    },
    statuses: { ...caller.statuses },
  };
}

export interface CompletedSessionMemory {
  sessions: number;
  usedMemoryBytesBefore: number;
  usedMemoryBytesAfter: number;
  /** What one ended session leaves behind until its answers expire (IDEMPOTENCY_TTL_SECONDS). */
  bytesPerSession: number;
  breakdownBytes: { storedAnswers: number; eventStreamEntries: number; keyspaceAndOther: number };
}

/**
 * Runs K whole sessions (Reserve → Commit → Commit final) through the service and reads what
 * they leave in Redis: the session itself is gone, its answers stay for retries, its events stay
 * in the stream until something trims it.
 */
export async function measureCompletedSessions(
  redis: Redis,
  keys: KeySpace,
  options: {
    sessionCount: number;
    concurrency: number;
    runSession: (index: number) => Promise<void>;
    /** Where session 0's answers are: its partition prefix, device and id. */
    sampleSession: { partitionPrefix: string; deviceId: string; sessionId: string };
  },
): Promise<CompletedSessionMemory> {
  const streams = Array.from({ length: keys.partitionCount }, (_, partition) => keys.stream(partition));
  const streamBytesBefore = await keysBytes(redis, streams);
  const before = await usedMemoryBytes(redis);
  await forEachLimited(Array.from({ length: options.sessionCount }, (_, index) => index), options.concurrency, options.runSession);
  const after = await usedMemoryBytes(redis);
  const perSession = (bytes: number) => Math.round(bytes / options.sessionCount);
  const { partitionPrefix, deviceId, sessionId } = options.sampleSession;
  const storedAnswers = await keyBytes(redis, `${partitionPrefix}sa:${deviceId} ${sessionId}`);
  const eventStreamEntries = perSession((await keysBytes(redis, streams)) - streamBytesBefore);
  const bytesPerSession = perSession(after - before);
  return {
    sessions: options.sessionCount,
    usedMemoryBytesBefore: before,
    usedMemoryBytesAfter: after,
    bytesPerSession,
    breakdownBytes: { storedAnswers, eventStreamEntries, keyspaceAndOther: bytesPerSession - storedAnswers - eventStreamEntries },
  };
}
