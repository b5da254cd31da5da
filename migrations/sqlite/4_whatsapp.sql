-- WhatsApp: which approved template a message falls back to outside the 24-hour window
-- (`topic`: alert | update | reminder | page), what the platform later reported about a sent
-- message (delivered, read, failed with its code and reason), and when each contact last wrote
-- to the business number (the 24-hour customer service window is counted from then).

ALTER TABLE outbox ADD COLUMN topic TEXT;
ALTER TABLE outbox ADD COLUMN delivery_status TEXT;
ALTER TABLE outbox ADD COLUMN delivery_error TEXT;
ALTER TABLE outbox ADD COLUMN delivery_at INTEGER;
CREATE INDEX outbox_by_platform_message ON outbox (platform, platform_message_id);

-- A contact's address is an E.164 number (as configured) or a group id; `seen_as` is the form
-- WhatsApp itself uses for it (older Brazilian accounts lack the ninth digit), which replies go
-- to. Numbers are personal data and never leave this table for the logs.
CREATE TABLE contact_windows (
    platform        TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    seen_as         TEXT    NOT NULL,
    last_inbound_at INTEGER  NOT NULL,
    PRIMARY KEY (platform, address)
);

-- Every delivery report, by the platform's message id: a status can overtake the send's own
-- answer (the webhook arrives before the worker recorded the id), so it is kept here and applied
-- to the row once the row knows its id.
CREATE TABLE delivery_reports (
    platform            TEXT    NOT NULL,
    platform_message_id TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    error_code          INTEGER,
    error               TEXT,
    at                  INTEGER  NOT NULL,
    PRIMARY KEY (platform, platform_message_id)
);
