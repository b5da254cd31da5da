-- Delivery: who holds a claimed outbox row, when rows were sent (for the send limits), and
-- settings shared by every replica (the sending mode).

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
CREATE INDEX outbox_sent ON outbox (platform, sent_at);

CREATE TABLE settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);
