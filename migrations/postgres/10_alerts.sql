-- Alerts from the alert sources: one row per alert (its source's own identity), the incident it
-- joined, and what flapping detection needs. A repeat of the same state changes nothing.
CREATE TABLE alerts (
    source           TEXT    NOT NULL,
    alert_key        TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    group_key        TEXT    NOT NULL,
    incident         BIGINT,
    title            TEXT    NOT NULL,
    severity         BIGINT  NOT NULL,
    labels           TEXT    NOT NULL,
    links            TEXT    NOT NULL,
    starts_at        BIGINT,
    ends_at          BIGINT,
    first_seen       BIGINT  NOT NULL,
    changed_at       BIGINT  NOT NULL,
    -- JSON: how often it fired, and in the current flapping window.
    flap             TEXT    NOT NULL,
    PRIMARY KEY (source, alert_key)
);
-- Whether an incident still has a firing alert: an index range per incident.
CREATE INDEX alerts_firing ON alerts (incident) WHERE status = 'firing';
-- The operator's view: the latest changes first.
CREATE INDEX alerts_changed ON alerts (changed_at);

-- Which incident a group of alerts joins while it is open; `opened_at` is set when the group
-- opened an incident of its own (storm protection counts those per source and minute).
CREATE TABLE alert_groups (
    source     TEXT    NOT NULL,
    group_key  TEXT    NOT NULL,
    incident   BIGINT  NOT NULL,
    opened_at  BIGINT,
    PRIMARY KEY (source, group_key)
);
CREATE INDEX alert_groups_opened ON alert_groups (source, opened_at) WHERE opened_at IS NOT NULL;
