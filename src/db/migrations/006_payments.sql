-- Payments received from customers, each once by its idempotency key, and how they pay invoices:
-- a payment is allocated to its invoice up to what that invoice still owes, and what is left is
-- the customer's credit, allocated to the next invoices as billing runs issue them (oldest
-- payment first). An invoice is paid when its allocations reach its total.
CREATE TABLE payments (
  id             text PRIMARY KEY,
  customer_id    text NOT NULL REFERENCES customers (id),
  invoice_id     text REFERENCES invoices (id),
  amount_micros  bigint NOT NULL CHECK (amount_micros > 0),
  currency       char(3) NOT NULL,
  method         text NOT NULL,
  reference      text,
  received_at    timestamptz NOT NULL
);
CREATE INDEX payments_of_customer ON payments (customer_id, received_at);

CREATE TABLE payment_allocations (
  payment_id     text NOT NULL REFERENCES payments (id),
  invoice_id     text NOT NULL REFERENCES invoices (id),
  amount_micros  bigint NOT NULL CHECK (amount_micros > 0),
  PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX payment_allocations_of_invoice ON payment_allocations (invoice_id);
