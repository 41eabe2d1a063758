-- When a device is in service, for its recurring fees: charged for the days from its activation
-- until its deactivation (exclusive), within what its plan covers. Devices created before this
-- migration count as active since they were created; the service sets it by its own clock, and a
-- row written by other means is active from when it is written.
ALTER TABLE devices ADD COLUMN activated_at timestamptz;
UPDATE devices SET activated_at = created_at;
ALTER TABLE devices ALTER COLUMN activated_at SET NOT NULL, ALTER COLUMN activated_at SET DEFAULT now();
ALTER TABLE devices ADD COLUMN deactivated_at timestamptz;
ALTER TABLE devices ADD CONSTRAINT devices_deactivated_after_activated CHECK (deactivated_at IS NULL OR deactivated_at > activated_at);
