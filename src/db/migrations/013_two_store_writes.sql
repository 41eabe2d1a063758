-- Writes that touch both stores: a payment or a credit note is a PostgreSQL row and a top-up of
-- the Redis wallet, and must be both or neither. The request is first committed here, then the
-- PostgreSQL rows are written and the (idempotent) top-up is called in one transaction that also
-- deletes this row: a refused top-up rolls the rows back and the request is dropped; a crash or an
-- outage between the two stores leaves this row, and a finisher repeats the same transaction with
-- the same top-up id until Redis gives its stable answer.
CREATE TABLE pending_top_ups (
  top_up_id    text PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('payment', 'credit-note')),
  customer_id  text NOT NULL REFERENCES customers (id),
  -- The validated request, so the finisher can write exactly what the caller asked for.
  request      jsonb NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX pending_top_ups_by_age ON pending_top_ups (created_at);

-- Provisioning and the catalog (customers, devices, tariffs, rating groups, allowances, plans,
-- subscriptions) are written to PostgreSQL and projected into Redis. The change and a mark saying
-- "project this row" commit together; the mark is cleared once Redis has the row, and a repair
-- re-projects every mark left behind (Redis down, a crash), so both stores end up with the
-- change. Projections are idempotent upserts, so projecting twice is harmless. `mark` orders the
-- marks, so a projection clears only the mark it answered, never a newer one.
CREATE TABLE pending_projections (
  kind       text NOT NULL CHECK (kind IN ('rating-group', 'tariff', 'customer', 'device', 'allowance', 'plan', 'subscriptions')),
  -- The row's id; for subscriptions, the subscriber: `customer:<id>` or `device:<id>`.
  id         text NOT NULL,
  mark       bigserial NOT NULL,
  PRIMARY KEY (kind, id)
);
