-- The journal: every event of the online path's streams, written once by the ledger worker
-- (src/ledger/), keyed by where Redis put it: the partition's stream and the entry's id. A
-- redelivered event hits the key and is skipped, so nothing is counted twice.
--
-- Partitioned by month of when the change happened by the service's clock (the event's `now`);
-- the worker creates each month's partition before writing into it. Amounts are bigint micros.
CREATE TABLE journal_events (
  occurred_at           timestamptz NOT NULL,
  -- Where the event came from: a partition's stream and its entry id (-1 and `rebuild:<ms>:<customer>` for a rebuild).
  stream_partition      integer NOT NULL,
  stream_id             text NOT NULL,
  -- The online path's event types, and `rebuild`: Redis restored from the journal, holds voided.
  type                  text NOT NULL CHECK (type IN ('reserve', 'commit', 'release', 'expiry', 'charge', 'top-up', 'overshoot', 'rebuild')),
  customer_id           text NOT NULL,
  device_id             text,
  session_id            text,
  event_id              text,
  -- Money taken from the wallet by this event (usage), and added to it (top-up).
  charged_micros        bigint NOT NULL DEFAULT 0,
  topped_up_micros      bigint NOT NULL DEFAULT 0,
  -- The wallet right after the event, as the script that made it saw it.
  balance_after_micros  bigint NOT NULL,
  held_after_micros     bigint,
  -- The event as the script wrote it (items, allowance parts, grants, releases).
  data                  jsonb NOT NULL,
  journaled_at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (occurred_at, stream_partition, stream_id)
) PARTITION BY RANGE (occurred_at);

CREATE INDEX journal_events_by_customer ON journal_events (customer_id, occurred_at);
