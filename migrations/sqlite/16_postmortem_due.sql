-- When a resolved incident's postmortem falls due, while it is neither written nor skipped
-- (NULL otherwise): the handoff's "postmortems due" is an index range over the few pending
-- ones, not a read of every incident of the last 90 days.
ALTER TABLE incidents ADD COLUMN postmortem_due_at BIGINT;
UPDATE incidents
SET postmortem_due_at = CAST(ROUND((julianday(json_extract(state, '$.postmortem_due_at')) - 2440587.5) * 86400000.0) AS INTEGER)
WHERE status = 'resolved'
  AND json_extract(state, '$.postmortem_due_at') IS NOT NULL
  AND json_extract(state, '$.postmortem') IS NULL;
CREATE INDEX incidents_postmortem_due ON incidents (postmortem_due_at, declared_at)
    WHERE postmortem_due_at IS NOT NULL;
