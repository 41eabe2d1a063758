-- The product catalog: tariffs in the tariff format, versioned plans and subscriptions. Written
-- by POST /v1/catalog/apply (src/catalog/), one transaction per apply.
--
-- catalog_tariffs is not the tariffs table of 001: that one holds the admin API's flat rates
-- (PUT /v1/tariffs), which a customer's tariff_id names and which are projected into Redis for
-- today's online path. Catalog tariffs are whole tariff documents (bands, zones, tiers, ...)
-- that only plans use, through the snapshot each plan version keeps. The two have separate ids.

CREATE TABLE catalog_tariffs (
  id          text PRIMARY KEY,
  currency    char(3) NOT NULL,
  -- The tariff document (src/rating/tariff-document.ts), defaults filled in.
  document    jsonb NOT NULL,
  -- 1, then one more for each change of the document.
  version     integer NOT NULL DEFAULT 1,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plans (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  currency    char(3) NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A version prices usage from effective_from until the next version's. Once in effect it never
-- changes; one not yet in effect is replaced by a delete and an insert, never an update.
CREATE TABLE plan_versions (
  plan_id          text NOT NULL REFERENCES plans (id),
  effective_from   timestamptz NOT NULL,
  tariff_id        text NOT NULL REFERENCES catalog_tariffs (id),
  -- The tariff as it was when the version was written: later edits of the tariff never reprice it.
  tariff_version   integer NOT NULL,
  tariff_document  jsonb NOT NULL,
  allowances       jsonb NOT NULL,
  fees             jsonb NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plan_id, effective_from)
);
CREATE INDEX plan_versions_by_tariff ON plan_versions (tariff_id);

CREATE FUNCTION plan_versions_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'plan versions are never updated: a version not yet in effect is deleted and written again';
END $$;
CREATE TRIGGER plan_versions_immutable BEFORE UPDATE ON plan_versions
  FOR EACH ROW EXECUTE FUNCTION plan_versions_refuse_update();

-- A customer's own subscription (device_id NULL) or a device's, which wins over its customer's.
-- Rows of one subscriber never overlap: a new plan closes the row in force at its start.
CREATE TABLE subscriptions (
  id           bigserial PRIMARY KEY,
  customer_id  text NOT NULL REFERENCES customers (id),
  device_id    text REFERENCES devices (id),
  plan_id      text NOT NULL REFERENCES plans (id),
  valid_from   timestamptz NOT NULL,
  valid_until  timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  CHECK (valid_until IS NULL OR valid_until > valid_from)
);
CREATE INDEX subscriptions_of_customer ON subscriptions (customer_id, valid_from) WHERE device_id IS NULL;
CREATE INDEX subscriptions_of_device ON subscriptions (device_id, valid_from) WHERE device_id IS NOT NULL;
CREATE INDEX subscriptions_by_plan ON subscriptions (plan_id);
