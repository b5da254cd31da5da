-- Bounded growth: the indexes the scheduler's claim and the retention job read, so each is an
-- index range over the rows it wants, whatever else the tables hold.

-- Running jobs by the end of their lease: the claim takes over a dead process's jobs from here.
-- Partial: only claimed jobs are in it (a handful), not the pending or finished ones; `state`
-- leads so SQLite's planner prefers it to `jobs_due (state, …)` for `state = 'running'`.
CREATE INDEX jobs_lease ON jobs (state, lease_until) WHERE state = 'running';

-- Sent and dry-run messages by when they went (only those have a `sent_at`): pruned after
-- `[retention] days`. Partial: a message joins it only once sent, so queueing one costs no
-- extra index write.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;

-- Inbound dedupe keys and delivery reports by age, for the same pruning.
CREATE INDEX inbound_events_by_time ON inbound_events (received_at);
CREATE INDEX delivery_reports_by_time ON delivery_reports (at);
