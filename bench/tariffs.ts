// The two tariffs the rating benchmarks price with: a simple one (one per-unit data price, as
// vector I1) and a complex one (5 time bands, 4 graduated tiers with band prices, 10 zones and a
// feature rate, in Europe/Berlin). Plain tariff documents, as an operator would write them.
export const GB = 1_000_000_000;
export const DATA = 10;

export const SIMPLE_TARIFF = {
  name: 'simple', currency: 'EUR',
  rates: [{ rating_group: DATA, intervals: [{ increment_units: 1024, per_units: GB, price: '0.50' }] }],
};

const ROAMING_ZONES = ['eu-1', 'eu-2', 'eu-3', 'na', 'latam', 'apac-1', 'apac-2', 'africa'];
export const COUNTRIES = ['208', '214', '222', '310', '724', '440', '505', '655'];

function tierSteps(scale: number) {
  const price = (value: number) => (value * scale).toFixed(4);
  const bandPrices = (value: number) => ({ night: price(value * 0.5), evening: price(value * 0.8), weekend: price(value * 0.6), lunch: price(value * 0.9), holiday: price(value * 0.4) });
  return [
    { up_to_units: GB, price: price(1), band_prices: bandPrices(1) },
    { up_to_units: 5 * GB, price: price(0.5), band_prices: bandPrices(0.5) },
    { up_to_units: 20 * GB, price: price(0.3), band_prices: bandPrices(0.3) },
    { price: price(0.2), band_prices: bandPrices(0.2) },
  ];
}

export const COMPLEX_TARIFF = {
  name: 'complex', currency: 'EUR', time_zone: 'Europe/Berlin',
  bands: [
    { name: 'night', weight: 10, from: '22:00', until: '06:00' },
    { name: 'evening', weight: 10, from: '18:00', until: '22:00' },
    { name: 'lunch', weight: 10, days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '12:00', until: '14:00' },
    { name: 'weekend', weight: 20, days: ['sat', 'sun'] },
    { name: 'holiday', weight: 30, dates: ['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-01', '2025-12-25', '2025-12-26'] },
  ],
  zones: [
    { name: 'home', networks: ['262-01', '262-02', '262-03'] },
    ...ROAMING_ZONES.map((name, index) => ({ name, networks: [COUNTRIES[index]!] })),
    { name: 'world' },
  ],
  default_zone: 'world',
  rates: [
    { rating_group: DATA, zones: ['home'], connect_fee: '0.01', intervals: [{ increment_units: 1024, per_units: GB, tiers: { mode: 'graduated', steps: tierSteps(1) } }] },
    { rating_group: DATA, zones: ['home'], apn: 'iot.m2m', intervals: [{ increment_units: 1024, per_units: GB, tiers: { mode: 'graduated', steps: tierSteps(0.8) } }] },
    ...ROAMING_ZONES.map((name, index) => ({
      rating_group: DATA, zones: [name], max_charge: '50.00', intervals: [{ increment_units: 1024, per_units: GB, tiers: { mode: 'graduated', steps: tierSteps(2 + index) } }],
    })),
    { rating_group: DATA, zones: ['world'], intervals: [{ increment_units: 1024, per_units: GB, tiers: { mode: 'graduated', steps: tierSteps(15) } }] },
  ],
};

