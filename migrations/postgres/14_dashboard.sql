-- The dashboard's incident page: an incident's messages per room and state, and its alerts,
-- each an index range of that incident alone.
CREATE INDEX outbox_incident ON outbox (incident);
CREATE INDEX alerts_incident ON alerts (incident);
