// Provisions the bench's fleet through the admin API, as an operator would: rating groups, one
// tariff, customers with pooled wallets topped up far beyond what a run can spend, and their
// devices. Ids look like production ones (ICCIDs for devices), since key sizes set memory use.

export interface FleetOptions {
  customerCount: number;
  deviceCount: number;
  /** Per customer, a decimal string; e.g. "1000000.00" is 10¹² micros. */
  topUpAmount: string;
  currency: string;
}

export interface Fleet {
  tariffId: string;
  /** Bytes: 0.50 per 1,000,000,000 bytes, counted in 1,024-byte increments. */
  dataRatingGroup: number;
  /** Events (one-shot API calls): 0.001 each. */
  eventRatingGroup: number;
  customerIds: string[];
  /** Spread round-robin over the customers. */
  deviceIds: string[];
}

/** Requests in flight while provisioning: the admin API writes PostgreSQL, then Redis. */
const provisioningConcurrency = 16;

export async function provisionFleet(httpUrl: string, options: FleetOptions): Promise<Fleet> {
  const api = new AdminApi(httpUrl);
  const fleet: Fleet = {
    tariffId: 'bench-data-and-events',
    dataRatingGroup: 1,
    eventRatingGroup: 2,
    customerIds: Array.from({ length: options.customerCount }, (_, index) => customerId(index)),
    deviceIds: Array.from({ length: options.deviceCount }, (_, index) => deviceId(index)),
  };
  await api.put(`/v1/rating-groups/${fleet.dataRatingGroup}`, { name: 'data', unit: 'bytes' });
  await api.put(`/v1/rating-groups/${fleet.eventRatingGroup}`, { name: 'api-calls', unit: 'events' });
  await api.put(`/v1/tariffs/${fleet.tariffId}`, {
    name: 'Bench data and events',
    currency: options.currency,
    rates: [
      { rating_group: fleet.dataRatingGroup, price: '0.50', per_units: 1_000_000_000, increment_units: 1024 },
      { rating_group: fleet.eventRatingGroup, price: '0.001' },
    ],
  });
  await forEachLimited(fleet.customerIds, provisioningConcurrency, async (id) => {
    await api.put(`/v1/customers/${id}`, { name: id, currency: options.currency, tariff_id: fleet.tariffId, time_zone: 'UTC' });
    await api.post('/v1/top-ups', { top_up_id: `opening-${id}`, customer_id: id, amount: options.topUpAmount, currency: options.currency });
  });
  await forEachLimited(fleet.deviceIds, provisioningConcurrency, (id, index) =>
    api.put(`/v1/devices/${id}`, { customer_id: fleet.customerIds[index % fleet.customerIds.length] }),
  );
  return fleet;
}

export function customerId(index: number): string {
  return `bench-customer-${String(index).padStart(5, '0')}`;
}

/** A 19-digit ICCID-shaped id: 89 (telecom), 44 (country), then a serial. */
export function deviceId(index: number, series = 0): string {
  return `8944${String(series).padStart(3, '0')}${String(index).padStart(12, '0')}`;
}

/** Runs `work` on every item with at most `limit` in flight; the first failure rejects. */
export async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

class AdminApi {
  constructor(private readonly baseUrl: string) {}

  put(path: string, body: unknown): Promise<unknown> {
    return this.send('PUT', path, body);
  }

  post(path: string, body: unknown): Promise<unknown> {
    return this.send('POST', path, body);
  }

  private async send(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`provisioning ${method} ${path} → ${response.status} ${text}`);
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
}
