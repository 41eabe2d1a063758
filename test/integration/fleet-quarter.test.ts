// A postpaid fleet of 50 devices over three months, on a fake clock in Europe/Paris: five devices
// join mid-December, five leave mid-January; data at home and roaming and SMS every month; the
// plan's prices fall at midnight on 15 January while a session runs over it; and SMS sent late
// on New Year's Eve reach the journal only after December was invoiced. Every line of the three
// invoices is asserted, worked out from the plan's prices by hand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/service.js';

const DATA = 1;
const SMS = 2;
const MB = 1_000_000;
const HOME = { mcc: '262', mnc: '01' };
const ROAMING = { mcc: '208', mnc: '10' };
const DEVICES = Array.from({ length: 50 }, (_, index) => `scn-${String(index).padStart(2, '0')}`);
const JOIN_LATE = DEVICES.slice(40, 45);
const LEAVE_EARLY = DEVICES.slice(45);
const ROAMERS = DEVICES.filter((_, index) => index % 10 === 0);

function tariff(home: string, roaming: string, sms: string) {
  return {
    name: 'Fleet', currency: 'EUR', time_zone: 'Europe/Paris',
    zones: [{ name: 'home', networks: ['262-01'] }, { name: 'roaming', networks: ['208'] }],
    rates: [
      { rating_group: DATA, zones: ['home'], intervals: [{ increment_units: 1000, per_units: MB, price: home }] },
      { rating_group: DATA, zones: ['roaming'], intervals: [{ increment_units: 1000, per_units: MB, price: roaming }] },
      { rating_group: SMS, intervals: [{ increment_units: 1, price: sms }] },
    ],
  };
}

const fee = { name: 'device-access', per: 'device', period: 'month', amount: '2.00', prorate: true };
const CATALOG = {
  rating_groups: [{ id: DATA, name: 'data', unit: 'bytes' }, { id: SMS, name: 'sms', unit: 'events' }],
  tariffs: [{ id: 'fleet-2026', ...tariff('1.00', '3.00', '0.05') }, { id: 'fleet-2027', ...tariff('0.80', '2.50', '0.04') }],
  plans: [{
    id: 'fleet-quarter', name: 'Fleet', currency: 'EUR',
    versions: [
      { effective_from: '2026-01-01T00:00:00Z', tariff: 'fleet-2026', fees: [fee] },
      { effective_from: '2027-01-15T00:00:00+01:00', tariff: 'fleet-2027', fees: [fee] },
    ],
  }],
};

let service: TestService;
let sessions = 0;
const at = (instant: string) => service.clock.set(Date.parse(instant));

beforeAll(async () => {
  service = await startTestService('fleet-quarter');
  await service.http.ok('POST', '/v1/catalog/apply', CATALOG);
  await service.app.catalog.loadRatingGroups();
  at('2026-12-01T00:00:00+01:00');
  await service.http.ok('PUT', '/v1/customers/scn', {
    name: 'scn', currency: 'EUR', time_zone: 'Europe/Paris', billing_mode: 'postpaid', credit_limit: '10000', tax_rates: [{ name: 'VAT', percent: '20' }],
  });
  for (const device of DEVICES) {
    await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: 'scn', ...(JOIN_LATE.includes(device) ? { activated_at: '2026-12-16T00:00:00+01:00' } : {}) });
  }
  await service.http.ok('PUT', '/v1/customers/scn/subscription', { plan_id: 'fleet-quarter' });
});
afterAll(() => service?.close());

async function dataSession(device: string, used: number, location: object, endsAt?: string): Promise<void> {
  const session = `scn-session-${++sessions}`;
  await service.grpc.ok('Reserve', { session_id: session, request_number: 1, device_id: device, location, items: [{ rating_group: DATA, requested_units: String(5 * MB) }] });
  if (endsAt !== undefined) at(endsAt);
  await service.grpc.ok('Commit', {
    session_id: session, request_number: 2, device_id: device, location, final: true, items: [{ rating_group: DATA, used_units: String(used), requested_units: '0' }],
  });
}

const sms = (device: string, eventId: string) => service.grpc.ok('Charge', { event_id: eventId, device_id: device, rating_group: SMS, units: '1', location: HOME });

/** A month's usage: data at home on the 20th, roaming on the 21st, two SMS on the 22nd, by the devices in service. */
async function month(yearMonth: string, inService: string[]): Promise<void> {
  at(`${yearMonth}-20T12:00:00+01:00`);
  for (const device of inService) await dataSession(device, ((DEVICES.indexOf(device) % 5) + 1) * MB, HOME);
  at(`${yearMonth}-21T12:00:00+01:00`);
  for (const device of inService.filter((each) => ROAMERS.includes(each))) await dataSession(device, MB, ROAMING);
  at(`${yearMonth}-22T12:00:00+01:00`);
  for (const device of inService) for (const n of [1, 2]) await sms(device, `${device}-${yearMonth}-${n}`);
  expect(await service.app.ledger.drainOnce()).toBeGreaterThan(0);
}

async function invoiceOf(periodStart: string) {
  const { items } = await service.http.ok('GET', '/v1/customers/scn/invoices');
  const found = items.find((invoice: { period_start: string }) => invoice.period_start === periodStart);
  return service.http.ok('GET', `/v1/invoices/${found.id}`);
}

type Line = [description: string, device: string | null, zone: string | null, units: string | null, amount: string];

const feeLines = (devices: string[], share: (device: string) => [days: string, amount: string]): Line[] =>
  devices.map((device) => [`device-access, ${share(device)[0]}`, device, null, null, share(device)[1]]);

/** Tax per line, half-even to a micro, then added up; micros throughout. */
function expectTotals(invoice: { lines: { kind: string; amount: string }[]; subtotal: string; tax: string; total: string }): void {
  const micros = (amount: string) => BigInt(amount.replace('.', ''));
  const charged = invoice.lines.filter((line) => line.kind !== 'tax').map((line) => micros(line.amount));
  const tax = charged.reduce((total, amount) => total + halfEven(amount * 20n, 100n), 0n);
  const subtotal = charged.reduce((total, amount) => total + amount, 0n);
  expect([micros(invoice.subtotal), micros(invoice.tax), micros(invoice.total)]).toEqual([subtotal, tax, subtotal + tax]);
}

function halfEven(numerator: bigint, denominator: bigint): bigint {
  const quotient = numerator / denominator;
  const twice = 2n * (numerator % denominator);
  return twice > denominator || (twice === denominator && quotient % 2n === 1n) ? quotient + 1n : quotient;
}

const linesOf = (invoice: { lines: { kind: string; description: string; device_id: string | null; zone: string | null; units: string | null; amount: string }[] }) =>
  invoice.lines.filter((line) => line.kind !== 'tax').map((line): Line => [line.description, line.device_id, line.zone, line.units, line.amount]);

describe('a fleet of 50 devices over three months', () => {
  it('invoices fees per device in service, usage per rating group and zone, the price change and late usage, line by line', async () => {
    await month('2026-12', DEVICES);
    at('2026-12-31T23:00:00+01:00');
    for (const device of DEVICES.slice(0, 5)) await sms(device, `${device}-new-year`); // not journaled before December is invoiced
    at('2027-01-01T06:00:00+01:00');
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-01-01T06:00:00+01:00' });
    at('2027-01-01T06:01:00+01:00');
    await service.app.ledger.drainOnce();

    at('2027-01-14T23:30:00+01:00');
    await dataSession(DEVICES[0]!, 2 * MB, HOME, '2027-01-15T00:30:00+01:00'); // half before the change, half after
    for (const device of LEAVE_EARLY) await service.http.ok('PUT', `/v1/devices/${device}`, { customer_id: 'scn', deactivated_at: '2027-01-21T00:00:00+01:00' });
    await month('2027-01', DEVICES); // those leaving still use the service: deactivation ends fees, not service
    at('2027-02-01T06:00:00+01:00');
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-02-01T06:00:00+01:00' });

    await month('2027-02', DEVICES.slice(0, 45));
    at('2027-03-01T06:00:00+01:00');
    await service.http.ok('POST', '/v1/billing/runs', { as_of: '2027-03-01T06:00:00+01:00' });

    const stayed = DEVICES.slice(0, 40);
    const december = await invoiceOf('2026-12-01');
    expect(linesOf(december)).toEqual([
      ...feeLines(DEVICES, (device) => (JOIN_LATE.includes(device) ? ['16 of 31 days', '1.032258'] : ['31 of 31 days', '2.000000'])),
      ['rating group 1, zone home', null, 'home', '150000000', '150.000000'], // 10 × (1+2+3+4+5) MB at 1.00
      ['rating group 1, zone roaming', null, 'roaming', '5000000', '15.000000'], // 5 MB at 3.00
      ['rating group 2, zone home', null, 'home', '100', '5.000000'], // 100 SMS at 0.05
    ]);
    expectTotals(december);

    const january = await invoiceOf('2027-01-01');
    expect(linesOf(january)).toEqual([
      ...feeLines(DEVICES, (device) => (LEAVE_EARLY.includes(device) ? ['20 of 31 days', '1.290323'] : ['31 of 31 days', '2.000000'])),
      // 150 MB at 0.80, and the session over the change: 1 MB at 1.00, 1 MB at 0.80.
      ['rating group 1, zone home', null, 'home', '152000000', '121.800000'],
      ['rating group 1, zone roaming', null, 'roaming', '5000000', '12.500000'],
      ['rating group 2, zone home', null, 'home', '100', '4.000000'], // every device sent on the 22nd: deactivation ends fees, not service
      ['rating group 2, zone home, late usage from before 2027-01-01', null, 'home', '5', '0.250000'],
    ]);
    expectTotals(january);

    const february = await invoiceOf('2027-02-01');
    expect(linesOf(february)).toEqual([
      ...feeLines([...stayed, ...JOIN_LATE], () => ['28 of 28 days', '2.000000']),
      ['rating group 1, zone home', null, 'home', '135000000', '108.000000'], // 9 × 15 MB at 0.80
      ['rating group 1, zone roaming', null, 'roaming', '5000000', '12.500000'],
      ['rating group 2, zone home', null, 'home', '90', '3.600000'],
    ]);
    expectTotals(february);
    expect([december.id, january.id, february.id]).toEqual(['INV-2027-000001', 'INV-2027-000002', 'INV-2027-000003']);
    // The stream was trimmed as it was journaled: the journal and Redis must agree.
    expect(await service.http.ok('GET', '/v1/ledger/reconciliation')).toEqual({ customers: 1, differences: [] });
  });
});
