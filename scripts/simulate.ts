// `npm run simulate`: drives realistic gateway traffic against a running Io Billing and prints
// what happened. It provisions a small catalog and three fleets over the admin API (idempotent,
// so it can run again), then plays data sessions (reserve → updates → final commit, some
// overshooting, some abandoned to expire) and SMS events from every device at once.
//   IO_HTTP_URL    default http://127.0.0.1:8080
//   IO_GRPC_TARGET default 127.0.0.1:50051
//   SIM_DEVICES    devices per fleet, default 20;  SIM_SEED default 1
import * as grpc from '@grpc/grpc-js';
import { loadProtos } from '../src/grpc/server.js';

const httpUrl = process.env['IO_HTTP_URL'] ?? 'http://127.0.0.1:8080';
const grpcTarget = process.env['IO_GRPC_TARGET'] ?? '127.0.0.1:50051';
const devicesPerFleet = Number(process.env['SIM_DEVICES'] ?? 20);
const run = `${Date.now().toString(36)}`;
const DATA = 1;
const SMS = 2;
const FLEETS = [
  { id: 'sim-trackers', balance: '25.00', allowanceBytes: 50_000_000 },
  { id: 'sim-meters', balance: '2.00', allowanceBytes: 0 },
  { id: 'sim-cameras', balance: '0.50', allowanceBytes: 5_000_000 },
];

/** A small seeded generator, so two runs with the same seed make the same traffic. */
let seed = Number(process.env['SIM_SEED'] ?? 1);
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648);
const between = (low: number, high: number) => Math.floor(low + random() * (high - low + 1));

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const init: RequestInit = body === undefined ? { method } : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(`${httpUrl}${path}`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} → ${response.status} ${text}`);
  return JSON.parse(text);
}

async function provision(): Promise<void> {
  await admin('PUT', `/v1/rating-groups/${DATA}`, { name: 'data', unit: 'bytes' });
  await admin('PUT', `/v1/rating-groups/${SMS}`, { name: 'sms', unit: 'events' });
  await admin('PUT', '/v1/tariffs/sim-iot', {
    name: 'IoT standard', currency: 'EUR', rounding: { mode: 'up', decimals: 6 },
    rates: [
      { rating_group: DATA, price: '0.50', per_units: 1_000_000, increment_units: 1024 },
      { rating_group: SMS, price: '0.02', per_units: 1, increment_units: 1 },
    ],
  });
  for (const fleet of FLEETS) {
    await admin('PUT', `/v1/customers/${fleet.id}`, { name: fleet.id, currency: 'EUR', tariff_id: 'sim-iot', time_zone: 'Europe/Paris' });
    for (let index = 0; index < devicesPerFleet; index++) await admin('PUT', `/v1/devices/${fleet.id}-${index}`, { customer_id: fleet.id });
    await admin('POST', '/v1/top-ups', { top_up_id: `${fleet.id}-${run}`, customer_id: fleet.id, amount: fleet.balance, currency: 'EUR' });
    if (fleet.allowanceBytes > 0) {
      await admin('POST', `/v1/customers/${fleet.id}/allowances`, {
        id: `${fleet.id}-${run}`, rating_group: DATA, units_total: fleet.allowanceBytes,
        valid_from: new Date(Date.now() - 60_000).toISOString(), valid_until: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      });
    }
  }
}

type Unary = (request: unknown, callback: (error: grpc.ServiceError | null, response: any) => void) => void;
const protos = loadProtos({ defaults: true }) as any;
const client = new protos.iobilling.charging.v1.ChargingService(grpcTarget, grpc.credentials.createInsecure()) as Record<string, Unary> & grpc.Client;
const results = new Map<string, number>();
const count = (key: string) => results.set(key, (results.get(key) ?? 0) + 1);

function call(method: string, request: unknown): Promise<any> {
  return new Promise((resolve, reject) => client[method]!.call(client, request, (error: grpc.ServiceError | null, response: any) => {
    if (error) {
      count(`${method} ${grpc.status[error.code]}`);
      return reject(error);
    }
    count(`${method} ${response.result} ${response.items?.[0]?.result ?? ''}`.trim());
    resolve(response);
  }));
}

/** One device's data session: reserve, a few updates that use most of each grant, then end. */
async function dataSession(device: string): Promise<void> {
  const session = `${device}-${run}-data`;
  let grant = await call('Reserve', { session_id: session, request_number: 1, device_id: device, items: [{ rating_group: DATA, requested_units: '2000000' }] });
  const updates = between(1, 4);
  for (let number = 2; number <= updates + 1; number++) {
    const granted = Number(grant.items[0]?.granted_units ?? 0);
    if (granted === 0) break;
    const overshoot = random() < 0.1 ? 1.2 : 1;
    const used = Math.floor(granted * (0.5 + random() / 2) * overshoot);
    const final = number === updates + 1;
    if (final && random() < 0.1) return; // abandoned: the expiry sweep releases its hold later
    grant = await call('Commit', { session_id: session, request_number: number, device_id: device, final, items: [{ rating_group: DATA, used_units: String(used), requested_units: final ? '0' : '2000000' }] });
  }
}

async function smsBurst(device: string): Promise<void> {
  for (let index = 0; index < between(1, 5); index++) {
    await call('Charge', { event_id: `${device}-${run}-sms-${index}`, device_id: device, rating_group: SMS, units: '1' });
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  await provision();
  const devices = FLEETS.flatMap((fleet) => Array.from({ length: devicesPerFleet }, (_, index) => `${fleet.id}-${index}`));
  await admin('POST', `/v1/devices/${devices[1]}/suspend`);
  await Promise.all(devices.map((device) => Promise.all([dataSession(device).catch(() => undefined), smsBurst(device).catch(() => undefined)])));
  await admin('POST', `/v1/devices/${devices[1]}/resume`);

  console.log(`Io Billing simulation: ${devices.length} devices in ${FLEETS.length} fleets, ${Date.now() - started} ms\n`);
  console.log('| request and result | count |\n| --- | --- |');
  for (const [key, value] of [...results].sort()) console.log(`| ${key} | ${value} |`);
  console.log('\n| fleet | balance | held | available | data allowance used |\n| --- | --- | --- | --- | --- |');
  for (const fleet of FLEETS) {
    const balance = await call('GetBalance', { customer_id: fleet.id });
    const used = balance.allowances.reduce((sum: bigint, bucket: any) => sum + BigInt(bucket.units_used), 0n);
    console.log(`| ${fleet.id} | ${balance.wallet.balance} | ${balance.wallet.held} | ${balance.wallet.available} | ${used} bytes |`);
  }
  client.close();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
