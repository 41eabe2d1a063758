-- The zone that priced a usage line (usage is invoiced per rating group and zone, as the online
-- path recorded it on each event); NULL for other lines and for usage no zone priced.
ALTER TABLE invoice_lines ADD COLUMN zone text;
