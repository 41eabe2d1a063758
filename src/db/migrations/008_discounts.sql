-- A customer's discount, a percentage of its fees and usage, shown as a line of its invoices
-- before tax (src/billing/billing-run.ts).
ALTER TABLE customers ADD COLUMN discount_percent numeric(7, 4) NOT NULL DEFAULT 0 CHECK (discount_percent >= 0 AND discount_percent <= 100);
