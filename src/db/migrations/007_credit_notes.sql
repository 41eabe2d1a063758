-- Corrections of issued invoices, which never change: a credit note credits part or all of an
-- invoice, numbered without gaps per year like invoices (CN-2026-000001). Its amount pays what the
-- invoice still owes, then becomes the customer's credit, exactly as a payment does, so it is
-- recorded as one (method 'credit-note') and allocated by the same rules.
CREATE TABLE credit_notes (
  id             text PRIMARY KEY,
  request_id     text NOT NULL UNIQUE,
  invoice_id     text NOT NULL REFERENCES invoices (id),
  amount_micros  bigint NOT NULL CHECK (amount_micros > 0),
  reason         text NOT NULL,
  issued_at      timestamptz NOT NULL
);
