-- When a resolved incident's postmortem falls due, while it is neither written nor skipped
-- (NULL otherwise): the handoff's "postmortems due" is an index range over the few pending
-- ones, not a read of every incident of the last 90 days.
ALTER TABLE incidents ADD COLUMN postmortem_due_at BIGINT;
UPDATE incidents
SET postmortem_due_at = (EXTRACT(EPOCH FROM ((state::jsonb) ->> 'postmortem_due_at')::timestamptz) * 1000)::BIGINT
WHERE status = 'resolved'
  AND (state::jsonb) ->> 'postmortem_due_at' IS NOT NULL
  AND (state::jsonb) ->> 'postmortem' IS NULL;
CREATE INDEX incidents_postmortem_due ON incidents (postmortem_due_at, declared_at)
    WHERE postmortem_due_at IS NOT NULL;
