// The operator's side of the catalog: rating groups, tariffs, customers, devices and
// allowances. PostgreSQL is the system of record; each change is written there first and then
// projected into Redis. A mark committed with the change names what is still to be projected,
// so a failed projection is mended by the projection repair (pending-projections.ts), or by
// repeating the same request.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Projection } from '../balance/projection.js';
import type { Clock } from '../clock.js';
import { inTransaction, SqlState } from '../db/database.js';
import { AppError, invalid } from '../errors.js';
import { parseAmount } from '../money/amount.js';
import type { TariffDefinition } from '../rating/tariff.js';
import { markForProjection, projectMarked } from './pending-projections.js';
import * as schemas from './schemas.js';
import * as views from './views.js';

export interface ProvisioningSettings {
  allowancesPerRatingGroupMax: number;
}

const PROJECTION_BATCH = 1000;

export type ProvisionedKind = 'rating-group' | 'tariff' | 'customer' | 'device' | 'allowance';

/** The table each provisioned kind is read from; ids are every table's primary key. */
const TABLE_OF: Record<ProvisionedKind, string> = {
  'rating-group': 'rating_groups', tariff: 'tariffs', customer: 'customers', device: 'devices', allowance: 'allowances',
};

export class ProvisioningService {
  constructor(
    private readonly pool: pg.Pool,
    private readonly projection: Projection,
    private readonly settings: ProvisioningSettings,
    private readonly clock: Clock,
  ) {}

  async putRatingGroup(idText: string, body: unknown): Promise<views.RatingGroupView> {
    const id = schemas.parseWith(schemas.ratingGroupPathId, idText, 'id');
    const input = schemas.parseWith(schemas.ratingGroupBody, body);
    const { row, mark } = await this.transaction(async (client) => {
      const { rows } = await client.query<views.RatingGroupRow>(
        `INSERT INTO rating_groups (id, name, unit) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, unit = excluded.unit, updated_at = now()
         RETURNING *`, [id, input.name, input.unit]);
      return { row: rows[0]!, mark: await markForProjection(client, 'rating-group', id) };
    });
    await projectMarked(this.pool, 'rating-group', id, mark, () => this.projectRow('rating-group', row));
    return views.ratingGroup(row);
  }

  async listRatingGroups(): Promise<views.RatingGroupView[]> {
    const { rows } = await this.pool.query<views.RatingGroupRow>('SELECT * FROM rating_groups ORDER BY id');
    return rows.map(views.ratingGroup);
  }

  async putTariff(idText: string, body: unknown): Promise<views.TariffView> {
    const id = schemas.parseWith(schemas.pathId, idText, 'id');
    const input = schemas.parseWith(schemas.tariffBody, body);
    await this.requireRatingGroups(input.rates.map((rate) => rate.rating_group));
    const seen = new Set<number>();
    input.rates.forEach((rate, index) => {
      if (seen.has(rate.rating_group)) throw invalid(`rates[${index}].rating_group`, `rating group ${rate.rating_group} appears twice`);
      seen.add(rate.rating_group);
    });
    const definition: TariffDefinition = {
      id, name: input.name, currency: input.currency, rounding: input.rounding, finalUnitAction: input.final_unit_action,
      rates: input.rates.map((rate) => ({
        ratingGroup: rate.rating_group, price: rate.price, perUnits: rate.per_units, incrementUnits: rate.increment_units, connectFee: rate.connect_fee,
      })),
    };
    // The definition holds every setting, so only a change of it is a new version: repeating a
    // PUT, which is how a failed projection is mended, leaves the version as it was.
    const { row, mark } = await this.transaction(async (client) => {
      const inUse = await client.query('SELECT 1 FROM customers WHERE tariff_id = $1 AND currency <> $2 LIMIT 1', [id, input.currency]);
      if (inUse.rowCount) throw new AppError('CONFLICT', 'customers in another currency use this tariff', 'currency');
      const { rows } = await client.query<views.TariffRow>(
        `INSERT INTO tariffs (id, name, currency, definition) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, currency = excluded.currency, definition = excluded.definition,
           version = tariffs.version + (tariffs.definition IS DISTINCT FROM excluded.definition)::int, updated_at = now()
         RETURNING *`, [id, input.name, input.currency, JSON.stringify(definition)]);
      return { row: rows[0]!, mark: await markForProjection(client, 'tariff', id) };
    });
    await projectMarked(this.pool, 'tariff', id, mark, () => this.projection.tariff(definition));
    return views.tariff(row);
  }

  async getTariff(idText: string): Promise<views.TariffView> {
    const { rows } = await this.pool.query<views.TariffRow>('SELECT * FROM tariffs WHERE id = $1', [idText]);
    if (!rows[0]) throw new AppError('NOT_FOUND', `tariff ${idText} does not exist`, 'id');
    return views.tariff(rows[0]);
  }

  async listTariffs(): Promise<views.TariffView[]> {
    const { rows } = await this.pool.query<views.TariffRow>('SELECT * FROM tariffs ORDER BY id LIMIT $1', [schemas.PAGE_SIZE_MAX]);
    return rows.map(views.tariff);
  }

  async putCustomer(idText: string, body: unknown): Promise<views.CustomerView> {
    const id = schemas.parseWith(schemas.pathId, idText, 'id');
    const input = schemas.parseWith(schemas.customerBody, body);
    const creditLimitMicros = micros(input.credit_limit)!;
    const { row, mark } = await this.transaction(async (client) => {
      const existing = await client.query<{ currency: string }>('SELECT currency FROM customers WHERE id = $1 FOR UPDATE', [id]);
      if (existing.rows[0] && existing.rows[0].currency !== input.currency) {
        throw new AppError('CONFLICT', `the wallet of customer ${id} is in ${existing.rows[0].currency}; a currency cannot change`, 'currency');
      }
      if (input.tariff_id !== null) await this.requireTariffCurrency(client, input.tariff_id, input.currency);
      const { rows } = await client.query<views.CustomerRow>(
        `INSERT INTO customers (id, name, currency, time_zone, tariff_id, credit_limit_micros,
                               billing_mode, anniversary_day, payment_terms_days, tax_id, tax_rates, invoice_address, discount_percent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, tariff_id = excluded.tariff_id,
           credit_limit_micros = excluded.credit_limit_micros, billing_mode = excluded.billing_mode, anniversary_day = excluded.anniversary_day,
           payment_terms_days = excluded.payment_terms_days, tax_id = excluded.tax_id, tax_rates = excluded.tax_rates,
           invoice_address = excluded.invoice_address, discount_percent = excluded.discount_percent, updated_at = now()
         RETURNING *`,
        [id, input.name, input.currency, input.time_zone, input.tariff_id, creditLimitMicros.toString(),
          input.billing_mode, input.anniversary_day, input.payment_terms_days, input.tax_id, JSON.stringify(input.tax_rates),
          input.invoice_address === null ? null : JSON.stringify(input.invoice_address), input.discount_percent]);
      return { row: rows[0]!, mark: await markForProjection(client, 'customer', id) };
    });
    await projectMarked(this.pool, 'customer', id, mark, () => this.projectCustomer(row));
    return views.customer(row);
  }

  async getCustomer(idText: string): Promise<views.CustomerView> {
    return views.customer(await this.customerRow(idText));
  }

  async listCustomers(query: unknown): Promise<views.Page<views.CustomerView>> {
    const page = schemas.parseWith(schemas.pageQuery, query);
    const { rows } = await this.pool.query<views.CustomerRow>(
      'SELECT * FROM customers WHERE id > $1 ORDER BY id LIMIT $2', [page.after ?? '', page.limit]);
    return views.page(rows.map(views.customer), page.limit);
  }

  async putDevice(idText: string, body: unknown): Promise<views.DeviceView> {
    const id = schemas.parseWith(schemas.pathId, idText, 'id');
    const input = schemas.parseWith(schemas.deviceBody, body);
    const { row, mark } = await this.transaction(async (client) => {
      const existing = await client.query<{ customer_id: string; activated_at: Date; deactivated_at: Date | null }>(
        'SELECT customer_id, activated_at, deactivated_at FROM devices WHERE id = $1 FOR UPDATE', [id]);
      const before = existing.rows[0];
      if (before && before.customer_id !== input.customer_id) {
        throw new AppError('CONFLICT', `device ${id} belongs to customer ${before.customer_id}`, 'customer_id');
      }
      const activatedAt = input.activated_at ?? before?.activated_at ?? new Date(this.clock.nowMs());
      const deactivatedAt = input.deactivated_at === undefined ? before?.deactivated_at ?? null : input.deactivated_at;
      if (deactivatedAt !== null && deactivatedAt <= activatedAt) throw invalid('deactivated_at', 'must be after activated_at');
      const { rows } = await client.query<views.DeviceRow>(
        `INSERT INTO devices (id, customer_id, status, daily_cap_micros, monthly_cap_micros, activated_at, deactivated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, daily_cap_micros = excluded.daily_cap_micros,
           monthly_cap_micros = excluded.monthly_cap_micros, activated_at = excluded.activated_at, deactivated_at = excluded.deactivated_at, updated_at = now()
         RETURNING *`, [id, input.customer_id, input.status, micros(input.daily_cap)?.toString() ?? null, micros(input.monthly_cap)?.toString() ?? null, activatedAt, deactivatedAt])
        .catch(foreignKey('customer_id', `customer ${input.customer_id} does not exist`));
      return { row: rows[0]!, mark: await markForProjection(client, 'device', id) };
    });
    await projectMarked(this.pool, 'device', id, mark, () => this.projectDevice(row));
    return views.device(row);
  }

  async getDevice(idText: string): Promise<views.DeviceView> {
    const { rows } = await this.pool.query<views.DeviceRow>('SELECT * FROM devices WHERE id = $1', [idText]);
    if (!rows[0]) throw new AppError('NOT_FOUND', `device ${idText} does not exist`, 'id');
    return views.device(rows[0]);
  }

  async listDevices(customerId: string, query: unknown): Promise<views.Page<views.DeviceView>> {
    await this.customerRow(customerId);
    const page = schemas.parseWith(schemas.pageQuery, query);
    const { rows } = await this.pool.query<views.DeviceRow>(
      'SELECT * FROM devices WHERE customer_id = $1 AND id > $2 ORDER BY id LIMIT $3', [customerId, page.after ?? '', page.limit]);
    return views.page(rows.map(views.device), page.limit);
  }

  /** Suspension takes effect on the device's next request: the scripts read the status. */
  async setDeviceStatus(idText: string, status: 'active' | 'suspended'): Promise<views.DeviceView> {
    const { row, mark } = await this.transaction(async (client) => {
      const { rows } = await client.query<views.DeviceRow>(
        'UPDATE devices SET status = $2, updated_at = now() WHERE id = $1 RETURNING *', [idText, status]);
      if (!rows[0]) throw new AppError('NOT_FOUND', `device ${idText} does not exist`, 'id');
      return { row: rows[0], mark: await markForProjection(client, 'device', idText) };
    });
    await projectMarked(this.pool, 'device', idText, mark, () => this.projectDevice(row));
    return views.device(row);
  }

  async createAllowance(customerId: string, body: unknown): Promise<{ created: boolean; allowance: views.AllowanceView }> {
    const input = schemas.parseWith(schemas.allowanceBody, body);
    const { valid_from: validFrom, valid_until: validUntil } = input;
    if (validUntil <= validFrom) throw invalid('valid_until', 'must be after valid_from');
    await this.requireRatingGroups([input.rating_group], 'rating_group');
    const id = input.id ?? randomUUID();
    const result = await this.transaction(async (client) => {
      await client.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [customerId]).then((found) => {
        if (!found.rowCount) throw new AppError('NOT_FOUND', `customer ${customerId} does not exist`, 'customer_id');
      });
      const existing = await client.query<views.AllowanceRow>('SELECT * FROM allowances WHERE id = $1', [id]);
      // A repeat marks the row again too: it is how a caller mends a projection that failed.
      if (existing.rows[0]) return { created: false, row: sameAllowance(existing.rows[0], customerId, input, validFrom, validUntil), mark: await markForProjection(client, 'allowance', id) };
      await this.checkAllowanceRoom(client, customerId, input.device_id, input.rating_group);
      if (input.device_id !== null) await requireOwnDevice(client, customerId, input.device_id);
      const { rows } = await client.query<views.AllowanceRow>(
        `INSERT INTO allowances (id, customer_id, device_id, rating_group, units_total, priority, valid_from, valid_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
        [id, customerId, input.device_id, input.rating_group, input.units_total.toString(), input.priority, validFrom, validUntil]);
      return { created: true, row: rows[0]!, mark: await markForProjection(client, 'allowance', id) };
    });
    await projectMarked(this.pool, 'allowance', id, result.mark, () => this.projectRow('allowance', result.row));
    return { created: result.created, allowance: views.allowance(result.row) };
  }

  async listAllowances(customerId: string): Promise<views.AllowanceView[]> {
    await this.customerRow(customerId);
    const { rows } = await this.pool.query<views.AllowanceRow>(
      'SELECT * FROM allowances WHERE customer_id = $1 ORDER BY id LIMIT $2', [customerId, schemas.ALLOWANCES_LISTED_MAX]);
    return rows.map(views.allowance);
  }

  /**
   * Writes everything provisioned into Redis again, in bounded batches; for a Redis that lost
   * it. The caller marks the keyspace projected once the catalog's plans are written too.
   */
  async projectAll(): Promise<number> {
    let count = 0;
    for (const group of await this.listRatingGroups()) await this.projection.ratingGroup({ id: group.id, name: group.name, unit: group.unit });
    for (const row of (await this.pool.query<views.TariffRow>('SELECT * FROM tariffs')).rows) {
      await this.projection.tariff(row.definition);
    }
    count += await this.projectTable<views.CustomerRow>('customers', (row) => this.projectCustomer(row));
    count += await this.projectTable<views.DeviceRow>('devices', (row) => this.projectDevice(row));
    count += await this.projectTable<views.AllowanceRow>('allowances', (row) => this.projection.allowance(views.allowanceProjection(row)));
    return count;
  }

  /** The projection repair's step for a provisioned row: locked as its writers lock it, then projected. */
  async reproject(client: pg.PoolClient, kind: ProvisionedKind, id: string): Promise<void> {
    const { rows } = await client.query(`SELECT * FROM ${TABLE_OF[kind]} WHERE id = $1 FOR UPDATE`, [id]);
    // Provisioning never deletes these rows; a missing one has nothing left to project.
    if (rows[0] !== undefined) await this.projectRow(kind, rows[0]);
  }

  /** Writes one row, as PostgreSQL holds it, into Redis. */
  private async projectRow(kind: ProvisionedKind, row: unknown): Promise<void> {
    switch (kind) {
      case 'rating-group': {
        const group = row as views.RatingGroupRow;
        return this.projection.ratingGroup({ id: group.id, name: group.name, unit: group.unit });
      }
      case 'tariff': return this.projection.tariff((row as views.TariffRow).definition);
      case 'customer': return this.projectCustomer(row as views.CustomerRow);
      case 'device': return this.projectDevice(row as views.DeviceRow);
      case 'allowance': return this.projection.allowance(views.allowanceProjection(row as views.AllowanceRow));
    }
  }

  async markProjected(): Promise<void> {
    await this.projection.markProjected();
  }

  private async projectTable<Row extends { id: string }>(table: string, project: (row: Row) => Promise<void>): Promise<number> {
    let after = '';
    let count = 0;
    for (;;) {
      const { rows } = await this.pool.query<Row>(`SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`, [after, PROJECTION_BATCH]);
      for (const row of rows) await project(row);
      count += rows.length;
      if (rows.length < PROJECTION_BATCH) return count;
      after = rows[rows.length - 1]!.id;
    }
  }

  private projectCustomer(row: views.CustomerRow): Promise<void> {
    return this.projection.customer(
      { id: row.id, currency: row.currency, timeZone: row.time_zone, tariffId: row.tariff_id }, BigInt(row.credit_limit_micros));
  }

  private projectDevice(row: views.DeviceRow): Promise<void> {
    return this.projection.device({
      id: row.id, customerId: row.customer_id, status: row.status,
      dailyCapMicros: row.daily_cap_micros === null ? null : BigInt(row.daily_cap_micros),
      monthlyCapMicros: row.monthly_cap_micros === null ? null : BigInt(row.monthly_cap_micros),
    });
  }

  private async customerRow(idText: string): Promise<views.CustomerRow> {
    const { rows } = await this.pool.query<views.CustomerRow>('SELECT * FROM customers WHERE id = $1', [idText]);
    if (!rows[0]) throw new AppError('NOT_FOUND', `customer ${idText} does not exist`, 'id');
    return rows[0];
  }

  private async requireRatingGroups(ids: number[], field = 'rates'): Promise<void> {
    const { rows } = await this.pool.query<{ id: number }>('SELECT id FROM rating_groups WHERE id = ANY($1)', [ids]);
    const known = new Set(rows.map((row) => row.id));
    const index = ids.findIndex((group) => !known.has(group));
    if (index >= 0) {
      throw invalid(field === 'rates' ? `rates[${index}].rating_group` : field, `unknown rating group ${ids[index]}`);
    }
  }

  private async requireTariffCurrency(client: pg.PoolClient, tariffId: string, currency: string): Promise<void> {
    const { rows } = await client.query<{ currency: string }>('SELECT currency FROM tariffs WHERE id = $1', [tariffId]);
    if (!rows[0]) throw invalid('tariff_id', `tariff ${tariffId} does not exist`);
    if (rows[0].currency !== currency) throw invalid('tariff_id', `tariff ${tariffId} is in ${rows[0].currency}, the customer in ${currency}`);
  }

  /** Limits count per holder, the customer's pool or one device, so a fleet can give each device its bundles. */
  private async checkAllowanceRoom(client: pg.PoolClient, customerId: string, deviceId: string | null, ratingGroup: number): Promise<void> {
    const { rows } = await client.query<{ total: string; group_active: string }>(
      `SELECT count(*) AS total, count(*) FILTER (WHERE rating_group = $3 AND valid_until > now()) AS group_active
       FROM allowances WHERE customer_id = $1 AND device_id IS NOT DISTINCT FROM $2`, [customerId, deviceId, ratingGroup]);
    const holder = deviceId === null ? "a customer's pool" : 'a device';
    if (Number(rows[0]!.total) >= schemas.ALLOWANCES_PER_HOLDER_MAX) {
      throw new AppError('CONFLICT', `${holder} has at most ${schemas.ALLOWANCES_PER_HOLDER_MAX} allowances`, 'id');
    }
    if (Number(rows[0]!.group_active) >= this.settings.allowancesPerRatingGroupMax) {
      throw new AppError('CONFLICT', `${holder} has at most ${this.settings.allowancesPerRatingGroupMax} current allowances per rating group`, 'rating_group');
    }
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

function micros(text: string | null): bigint | null {
  if (text === null) return null;
  const parsed = parseAmount(text);
  if (!parsed.ok) throw new Error(`validated amount ${text} did not parse`);
  return parsed.micros;
}

function foreignKey(field: string, message: string) {
  return (error: unknown): never => {
    if ((error as { code?: string }).code === SqlState.FOREIGN_KEY_VIOLATION) throw invalid(field, message);
    throw error;
  };
}

async function requireOwnDevice(client: pg.PoolClient, customerId: string, deviceId: string): Promise<void> {
  const { rows } = await client.query<{ customer_id: string }>('SELECT customer_id FROM devices WHERE id = $1', [deviceId]);
  if (rows[0]?.customer_id !== customerId) throw invalid('device_id', `device ${deviceId} is not a device of customer ${customerId}`);
}

/** Repeating a create with the same id is fine; the same id with other settings is not. */
function sameAllowance(row: views.AllowanceRow, customerId: string, input: { device_id: string | null; rating_group: number; units_total: bigint; priority: number }, validFrom: Date, validUntil: Date): views.AllowanceRow {
  const same = row.customer_id === customerId && row.device_id === input.device_id && row.rating_group === input.rating_group
    && BigInt(row.units_total) === input.units_total && row.priority === input.priority
    && row.valid_from.getTime() === validFrom.getTime() && row.valid_until.getTime() === validUntil.getTime();
  if (!same) throw new AppError('CONFLICT', `allowance ${row.id} exists with other settings`, 'id');
  return row;
}

