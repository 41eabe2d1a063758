// Price enquiry over gRPC and HTTP: what N units would cost a device now, and why, rated by the
// same tariff and engine as a charge (vectors C1 and I1), changing nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectConserved } from '../support/conservation.js';
import { provisionFleet, ratingGroups, startTestService, type TestService } from '../support/service.js';

let service: TestService;
const DATA = 1;
const SMS = 2;
const VOICE = 3;
const UNPRICED = 4;

beforeAll(async () => {
  service = await startTestService('price-enquiry');
  await ratingGroups(service, [[DATA, 'bytes'], [SMS, 'events'], [VOICE, 'seconds'], [UNPRICED, 'events']]);
  await service.app.catalog.loadRatingGroups();
  await provisionFleet(service, {
    customerId: 'asker', devices: ['asker-dev'], balance: '10.00',
    tariff: {
      id: 'asker-tariff', rounding: { mode: 'up', decimals: 4 },
      rates: [
        { rating_group: VOICE, price: '0.01', per_units: 1, increment_units: 1, connect_fee: '0.10' },
        { rating_group: SMS, price: '0.10' },
      ],
    },
  });
  await provisionFleet(service, {
    customerId: 'bytes', devices: ['bytes-dev'], balance: '1.00',
    tariff: { id: 'bytes-tariff', rates: [{ rating_group: DATA, price: '0.50', per_units: 1_000_000_000, increment_units: 1024 }] },
  });
});
afterAll(() => service?.close());

const ask = (deviceId: string, ratingGroup: number, units: number) => ({ device_id: deviceId, rating_group: ratingGroup, units: String(units) });

describe('price enquiry', () => {
  it('prices vector C1 (45 s with a connect fee, rounded up to 4 decimals) with its reasons', async () => {
    const answer = await service.grpc.ok('PriceEnquiry', ask('asker-dev', VOICE, 45));
    expect(answer).toMatchObject({
      result: 'RESULT_CODE_SUCCESS', currency: 'EUR', amount: '0.550000', connect_fee: '0.1', tariff_id: 'asker-tariff', zone: '',
      lines: [{ interval: 0, band: '', from_units: '0', units: '45', increments: '45', price: '0.01', per_units: '1', amount: '0.45' }],
    });
  });

  it('prices vector I1 (sub-micro data price, 1024-byte increments) over HTTP alike', async () => {
    const answer = await service.http.ok('POST', '/v1/charging/price-enquiry', ask('bytes-dev', DATA, 1_500_000));
    expect(answer).toMatchObject({
      result: 'RESULT_CODE_SUCCESS', amount: '0.000751',
      lines: [{ units: '1500160', increments: '1465', price: '0.50', per_units: '1000000000', amount: '0.00075008' }],
    });
  });

  it('gives the price a charge of the same units then pays, and changes nothing itself', async () => {
    const before = await service.grpc.ok('GetBalance', { customer_id: 'asker' });
    const enquiry = await service.grpc.ok('PriceEnquiry', ask('asker-dev', SMS, 3));
    expect(await service.grpc.ok('GetBalance', { customer_id: 'asker' })).toEqual(before);
    const charge = await service.grpc.ok('Charge', { event_id: 'asker-sms', device_id: 'asker-dev', rating_group: SMS, units: '3' });
    expect(charge.charged_amount).toBe(enquiry.amount);
    await expectConserved(service, 'asker');
  });

  it('answers an unknown device with USER_UNKNOWN and an unpriced rating group with RATING_FAILED and why', async () => {
    expect(await service.grpc.ok('PriceEnquiry', ask('nobody', SMS, 1))).toMatchObject({ result: 'RESULT_CODE_USER_UNKNOWN', amount: '0.000000' });
    const unpriced = await service.grpc.ok('PriceEnquiry', ask('asker-dev', UNPRICED, 1));
    expect(unpriced).toMatchObject({ result: 'RESULT_CODE_RATING_FAILED', tariff_id: 'asker-tariff' });
    expect(unpriced.reason).toMatch(/rating group 4/);
  });

  it.each([
    ['units 0', { ...ask('asker-dev', SMS, 0) }, 'units'],
    ['an unknown rating group', { ...ask('asker-dev', 99, 1) }, 'rating_group'],
    ['no device', { rating_group: SMS, units: '1' }, 'device_id'],
  ])('refuses %s, naming the field', async (_name, request, field) => {
    const answer = await service.grpc.call('PriceEnquiry', request);
    expect(answer.ok ? undefined : answer.error).toMatchObject({ errorCode: 'INVALID_ARGUMENT', field });
  });

  it('refuses an unknown field over HTTP, naming it', async () => {
    const answer = await service.http.request('POST', '/v1/charging/price-enquiry', { ...ask('asker-dev', SMS, 1), session_id: 's' });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'session_id' });
  });
});
