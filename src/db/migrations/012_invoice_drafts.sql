-- Draft invoices: with a grace period (INVOICE_GRACE_HOURS), a billing run first makes a draft
-- of a closed period, which later runs refresh with usage that arrives meanwhile, and issues it
-- once the grace has passed (or when asked). A draft has no number, issue date or due date yet.
ALTER TABLE invoices DROP CONSTRAINT invoices_status_check;
ALTER TABLE invoices ADD CONSTRAINT invoices_status_check CHECK (status IN ('draft', 'issued', 'paid', 'void'));
ALTER TABLE invoices ALTER COLUMN issued_at DROP NOT NULL, ALTER COLUMN due_at DROP NOT NULL;
ALTER TABLE invoices ADD CONSTRAINT invoices_issued_dated CHECK ((status = 'draft') = (issued_at IS NULL AND due_at IS NULL));
