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
