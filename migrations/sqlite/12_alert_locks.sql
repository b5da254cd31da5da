-- One row per alert source, locked (upserted) by every delivery of that source before it reads
-- the source's alerts and groups: two replicas taking the same notification (a sender's retry
-- to another replica, or two senders) then take it one after the other, so the second finds
-- what the first stored instead of opening the group's incident a second time.
CREATE TABLE alert_locks (
    source     TEXT    PRIMARY KEY,
    taken_at   BIGINT  NOT NULL
);
