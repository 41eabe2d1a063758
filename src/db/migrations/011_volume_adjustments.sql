-- Invoices settle a month of volume tiers at the price of the tier reached, as an `adjustment`
-- line (src/billing/volume-adjustments.ts).
ALTER TABLE invoice_lines DROP CONSTRAINT invoice_lines_kind_check;
ALTER TABLE invoice_lines ADD CONSTRAINT invoice_lines_kind_check CHECK (kind IN ('fee', 'usage', 'adjustment', 'discount', 'tax'));
