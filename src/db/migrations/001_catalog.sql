-- The system of record for provisioning. Live balances are in Redis; these rows say what a
-- customer, device, tariff or allowance is, and are projected into Redis for the hot path.

CREATE TABLE rating_groups (
  id          integer PRIMARY KEY CHECK (id > 0),
  name        text NOT NULL,
  unit        text NOT NULL CHECK (unit IN ('bytes', 'seconds', 'events')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tariffs (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  currency    char(3) NOT NULL,
  -- The tariff as the rating engine reads it (src/rating/tariff.ts, TariffDefinition).
  definition  jsonb NOT NULL,
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id                   text PRIMARY KEY,
  name                 text NOT NULL,
  currency             char(3) NOT NULL,
  time_zone            text NOT NULL,
  tariff_id            text REFERENCES tariffs (id),
  credit_limit_micros  bigint NOT NULL DEFAULT 0 CHECK (credit_limit_micros >= 0),
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
  id                  text PRIMARY KEY,
  customer_id         text NOT NULL REFERENCES customers (id),
  status              text NOT NULL CHECK (status IN ('active', 'suspended')),
  daily_cap_micros    bigint CHECK (daily_cap_micros >= 0),
  monthly_cap_micros  bigint CHECK (monthly_cap_micros >= 0),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_by_customer ON devices (customer_id, id);

CREATE TABLE allowances (
  id            text PRIMARY KEY,
  customer_id   text NOT NULL REFERENCES customers (id),
  device_id     text REFERENCES devices (id),
  rating_group  integer NOT NULL REFERENCES rating_groups (id),
  units_total   bigint NOT NULL CHECK (units_total >= 0),
  priority      integer NOT NULL CHECK (priority BETWEEN 0 AND 999),
  valid_from    timestamptz NOT NULL,
  valid_until   timestamptz NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_until > valid_from)
);
CREATE INDEX allowances_by_customer ON allowances (customer_id, rating_group, valid_until);
