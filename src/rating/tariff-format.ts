// The tariff format's types: plain data an operator writes in YAML or JSON (see
// tariff-document.ts for its schema and README "Tariffs"). Types only, so the schema and the
// rules it checks can both use them without importing one another.
import type { FinalUnitActionName, Rounding } from './tariff-terms.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type TierMode = 'graduated' | 'volume';
export type TierScope = 'customer' | 'device';

export interface TariffDocument {
  name: string;
  currency: string;
  /** IANA zone that bands' clock times and dates are read in. */
  time_zone: string;
  /** Applied once per charge. */
  rounding: Rounding;
  final_unit_action: FinalUnitActionName;
  bands?: BandDocument[];
  zones?: ZoneDocument[];
  /** Where a location no zone lists is rated; without it such usage is "rating failed". */
  default_zone?: string;
  rates: RateDocument[];
}

/** A time band: where bands overlap, the higher weight is in force. */
export interface BandDocument {
  name: string;
  weight: number;
  /** Days the band starts on; all days when absent. */
  days?: Weekday[];
  /** Calendar dates (YYYY-MM-DD), e.g. holidays; instead of days. */
  dates?: string[];
  /** "HH:MM", from 00:00 (the default) ... */
  from?: string;
  /** ... until "HH:MM" (24:00 by default), exclusive. Earlier than `from`: runs past midnight. */
  until?: string;
}

export interface ZoneDocument {
  name: string;
  /** "MCC-MNC" for one network, or "MCC" for every network of a country. */
  networks?: string[];
  /** Zone ids a gateway may report instead of a network. */
  location_ids?: string[];
}

/** Selectors choose the rate; everything else prices the usage. */
export interface RateDocument {
  rating_group: number;
  /** Zones this rate prices; every zone when absent. */
  zones?: string[];
  service_id?: number;
  apn?: string;
  qos_class?: number;
  device_type?: string;
  /** Once per session, with its first usage. */
  connect_fee: string;
  /** Least a session costs once it has usage; at most the tariff's decimals. */
  min_charge?: string;
  /** Most a session costs. */
  max_charge?: string;
  /** Whose period usage places the tiers: the customer's pool or the device's own. */
  tier_scope: TierScope;
  intervals: IntervalDocument[];
}

/** Prices the session's units from `from_units` on, counted in whole `increment_units`. */
export interface IntervalDocument {
  from_units: number;
  increment_units: number;
  /** Prices are per this many units. */
  per_units: number;
  /** Either a price (with optional band prices) or tiers. */
  price?: string;
  band_prices?: Record<string, string>;
  tiers?: TiersDocument;
}

export interface TiersDocument {
  mode: TierMode;
  /** In order; every step but the last has `up_to_units` (cumulative units in the period). */
  steps: TierStepDocument[];
}

export interface TierStepDocument {
  up_to_units?: number;
  price: string;
  band_prices?: Record<string, string>;
}
