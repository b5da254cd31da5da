-- runroom schema, SQLite. Times are UTC epoch milliseconds; JSON is stored as text.

-- One row per incident: indexed columns for queries, the whole model as JSON in `state`.
CREATE TABLE incidents (
    number      INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    severity    INTEGER NOT NULL,
    status      TEXT    NOT NULL,
    declared_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    state       TEXT    NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, number);

-- Append-only history of every incident.
CREATE TABLE timeline (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    incident INTEGER NOT NULL REFERENCES incidents (number),
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    room     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    detail   TEXT    NOT NULL
);
CREATE INDEX timeline_by_incident ON timeline (incident, id);

-- Platform event ids already handled: a retried webhook is recognised here.
CREATE TABLE inbound_events (
    event_key   TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
);

-- Per-room settings changed from chat (`inc lang …`); config gives the defaults.
CREATE TABLE room_settings (
    room_id    TEXT    PRIMARY KEY,
    language   TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Sequences that must not skip or repeat (INC-1, INC-2, …).
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident', 0);

-- Every outbound message, written with the decision that caused it and delivered by a sender.
CREATE TABLE outbox (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key     TEXT    NOT NULL UNIQUE,
    room_id             TEXT    NOT NULL,
    platform            TEXT    NOT NULL,
    chat                TEXT    NOT NULL,
    thread              TEXT,
    kind                TEXT    NOT NULL,
    language            TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    rich                TEXT,
    incident            INTEGER,
    priority            INTEGER NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending',
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER NOT NULL,
    lease_until         INTEGER,
    created_at          INTEGER NOT NULL,
    sent_at             INTEGER,
    platform_message_id TEXT,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (state, platform, priority, id);
