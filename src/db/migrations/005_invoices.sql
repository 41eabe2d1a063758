-- Invoices of postpaid and hybrid customers, made by billing runs (src/billing/billing-run.ts).
-- One per customer and billing period; numbered without gaps per issuer and year of issue
-- (INV-2026-000001), from a counter taken in the same transaction as the invoice. An issued
-- invoice never changes: its lines and totals are written once.
CREATE TABLE invoice_counters (
  issuer       text NOT NULL,
  year         integer NOT NULL,
  last_number  integer NOT NULL,
  PRIMARY KEY (issuer, year)
);

CREATE TABLE invoices (
  id               text PRIMARY KEY,
  customer_id      text NOT NULL REFERENCES customers (id),
  period_start     date NOT NULL,
  period_end       date NOT NULL,
  currency         char(3) NOT NULL,
  status           text NOT NULL CHECK (status IN ('issued', 'paid', 'void')),
  subtotal_micros  bigint NOT NULL,
  tax_micros       bigint NOT NULL,
  total_micros     bigint NOT NULL CHECK (total_micros = subtotal_micros + tax_micros),
  issued_at        timestamptz NOT NULL,
  due_at           timestamptz NOT NULL,
  UNIQUE (customer_id, period_start)
);

CREATE TABLE invoice_lines (
  invoice_id     text NOT NULL REFERENCES invoices (id),
  position       integer NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('fee', 'usage', 'discount', 'tax')),
  device_id      text,
  description    text NOT NULL,
  rating_group   integer,
  units          bigint,
  amount_micros  bigint NOT NULL,
  PRIMARY KEY (invoice_id, position)
);
