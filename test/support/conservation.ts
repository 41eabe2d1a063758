// The conservation invariant, checked from the outside: the wallet in Redis must equal what its
// event stream says happened, and the money held must equal the open reservations.
//   balance = opening (0) + top-ups − Σ charged,   held = Σ open reservations
import { Cluster, type Redis } from 'ioredis';
import { expect } from 'vitest';
import type { TestService } from './service.js';

const STREAM_READ_MAX = 200_000;
const SCAN_ROUNDS_MAX = 10_000;

export interface Ledger {
  balanceMicros: bigint;
  heldMicros: bigint;
  topUpsMicros: bigint;
  chargedMicros: bigint;
  reservationsMicros: bigint;
  chargeEvents: number;
  events: { type: string; data: any }[];
}

export async function readLedger(service: TestService, customerId: string): Promise<Ledger> {
  const { keys } = service.app;
  const partition = keys.partitionOf(customerId);
  const raw = (await service.redis.xrange(keys.stream(partition), '-', '+', 'COUNT', STREAM_READ_MAX)) as [string, string[]][];
  const events = raw.map(([, fields]) => ({ type: fields[1]!, data: JSON.parse(fields[3]!) })).filter((event) => event.data.cus === customerId);
  let topUpsMicros = 0n;
  let chargedMicros = 0n;
  let chargeEvents = 0;
  for (const event of events) {
    if (event.type === 'top-up') topUpsMicros += BigInt(event.data.amount);
    if (event.type === 'charge') chargeEvents++;
    if (event.type === 'commit' || event.type === 'charge' || event.type === 'reserve') {
      for (const item of Array.isArray(event.data.items) ? event.data.items : []) chargedMicros += BigInt(item.cm ?? '0');
    }
  }
  const wallet = await service.redis.hmget(keys.wallet(customerId), 'balance', 'held');
  return {
    balanceMicros: BigInt(wallet[0]!), heldMicros: BigInt(wallet[1]!), topUpsMicros, chargedMicros,
    reservationsMicros: await openReservationsMicros(service, partition, customerId), chargeEvents, events,
  };
}

async function openReservationsMicros(service: TestService, partition: number, customerId: string): Promise<bigint> {
  const pattern = `${service.app.keys.partitionPrefix(partition)}s:*`;
  let total = 0n;
  for (const node of masters(service)) {
    let cursor = '0';
    for (let round = 0; round < SCAN_ROUNDS_MAX; round++) {
      const [next, sessionKeys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      for (const key of sessionKeys) {
        const fields = await service.redis.hgetall(key);
        if (fields['cus'] !== customerId) continue;
        for (const [name, value] of Object.entries(fields)) if (name.startsWith('g:')) total += BigInt(JSON.parse(value).m);
      }
      cursor = next;
      if (cursor === '0') break;
    }
  }
  return total;
}

/** SCAN walks one server; in a cluster the keys of a partition live on the master owning its slot. */
function masters(service: TestService): Redis[] {
  const redis = service.redis;
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

export async function expectConserved(service: TestService, customerId: string): Promise<Ledger> {
  const ledger = await readLedger(service, customerId);
  expect(ledger.balanceMicros, 'balance = top-ups − charged').toBe(ledger.topUpsMicros - ledger.chargedMicros);
  expect(ledger.heldMicros, 'held = Σ open reservations').toBe(ledger.reservationsMicros);
  return ledger;
}
