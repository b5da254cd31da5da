-- Pacing shared between replicas: each process that sends on a platform records a heartbeat
-- here every few seconds and paces to the platform's limit divided by the processes seen
-- lately, so several replicas together stay within the limit one account has.
CREATE TABLE pacing_shares (
    platform    TEXT    NOT NULL,
    process     TEXT    NOT NULL,
    seen_at     BIGINT  NOT NULL,
    PRIMARY KEY (platform, process)
);

-- A destination's backlog is moved to its pacing slots in one statement.
CREATE INDEX outbox_by_chat ON outbox (platform, chat, state);
