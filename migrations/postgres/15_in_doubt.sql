-- A message claimed again after its last claim's lease ran out while it was being sent: that
-- attempt's outcome is unknown (the worker may have died after the platform accepted it). The
-- claim sets this from the row's state before it, so the sender can look the message up on the
-- platform before sending it again. A row given back unsent (a lookup that could not be made
-- yet) stays in doubt; one that failed a send of its own is not.
ALTER TABLE outbox ADD COLUMN in_doubt BIGINT NOT NULL DEFAULT 0;
