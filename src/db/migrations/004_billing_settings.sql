-- How each customer is billed (the offline path reads these; the online path does not).
--   billing_mode         prepaid (statements), postpaid (invoices; charges run the balance below
--                        zero within credit_limit_micros), or hybrid (both)
--   anniversary_day      1-31: periods run from that day of a month to the same day of the next
--                        (the last day of shorter months); NULL: calendar months
--   payment_terms_days   an invoice is due this many days after it is issued
--   tax_rates            [{ "name", "percent" (decimal string) }], applied to every line
ALTER TABLE customers
  ADD COLUMN billing_mode        text NOT NULL DEFAULT 'prepaid' CHECK (billing_mode IN ('prepaid', 'postpaid', 'hybrid')),
  ADD COLUMN anniversary_day     smallint CHECK (anniversary_day BETWEEN 1 AND 31),
  ADD COLUMN payment_terms_days  integer NOT NULL DEFAULT 30 CHECK (payment_terms_days BETWEEN 0 AND 365),
  ADD COLUMN tax_id              text,
  ADD COLUMN tax_rates           jsonb NOT NULL DEFAULT '[]',
  ADD COLUMN invoice_address     jsonb;
