-- runroom schema, Postgres. Times are UTC epoch milliseconds; JSON is stored as text.

-- One row per incident: indexed columns for queries, the whole model as JSON in `state`.
CREATE TABLE incidents (
    number      BIGINT PRIMARY KEY,
    title       TEXT    NOT NULL,
    severity    BIGINT  NOT NULL,
    status      TEXT    NOT NULL,
    declared_at BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    resolved_at BIGINT,
    state       TEXT    NOT NULL
);
CREATE INDEX incidents_by_status ON incidents (status, number);

-- Append-only history of every incident.
CREATE TABLE timeline (
    id       BIGSERIAL PRIMARY KEY,
    incident BIGINT  NOT NULL REFERENCES incidents (number),
    at       BIGINT  NOT NULL,
    actor    TEXT    NOT NULL,
    room     TEXT    NOT NULL,
    kind     TEXT    NOT NULL,
    detail   TEXT    NOT NULL
);
CREATE INDEX timeline_by_incident ON timeline (incident, id);

-- Platform event ids already handled: a retried webhook is recognised here.
CREATE TABLE inbound_events (
    event_key   TEXT    PRIMARY KEY,
    received_at BIGINT  NOT NULL
);

-- Per-room settings changed from chat (`inc lang …`); config gives the defaults.
CREATE TABLE room_settings (
    room_id    TEXT    PRIMARY KEY,
    language   TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- Sequences that must not skip or repeat (INC-1, INC-2, …).
CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value BIGINT  NOT NULL
);
INSERT INTO counters (name, value) VALUES ('incident', 0);

-- Every outbound message, written with the decision that caused it and delivered by a sender.
CREATE TABLE outbox (
    id                  BIGSERIAL PRIMARY KEY,
    idempotency_key     TEXT    NOT NULL UNIQUE,
    room_id             TEXT    NOT NULL,
    platform            TEXT    NOT NULL,
    chat                TEXT    NOT NULL,
    thread              TEXT,
    kind                TEXT    NOT NULL,
    language            TEXT    NOT NULL,
    text                TEXT    NOT NULL,
    rich                TEXT,
    incident            BIGINT,
    priority            BIGINT  NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'pending',
    attempts            BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at     BIGINT  NOT NULL,
    lease_until         BIGINT,
    created_at          BIGINT  NOT NULL,
    sent_at             BIGINT,
    platform_message_id TEXT,
    last_error          TEXT
);
CREATE INDEX outbox_due ON outbox (state, platform, priority, id);
