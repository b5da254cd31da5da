-- Bounded answers at constant cost: what `inc list`, its filters, an implicit incident reference
-- and the handoff summary read, as index ranges rather than every open incident.

-- Open incidents, most severe first, then oldest: `inc list` (and `sevN`) reads a page of it.
CREATE INDEX incidents_open_rank ON incidents (severity, declared_at, number)
    WHERE status <> 'resolved';
-- The newest open incident (a roster's chatter is mirrored into its thread).
CREATE INDEX incidents_open_number ON incidents (number) WHERE status <> 'resolved';
-- What a shift declared and resolved (the handoff summary).
CREATE INDEX incidents_by_declared ON incidents (declared_at);
CREATE INDEX incidents_by_resolved ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;

-- Who holds a role on which open incident (`inc list mine`): rewritten with the incident, empty
-- once it is resolved. `person` is the holder as `engine::incident::person_key` normalises it.
CREATE TABLE incident_roles (
    person      TEXT    NOT NULL,
    number      INTEGER NOT NULL REFERENCES incidents (number),
    severity    INTEGER NOT NULL,
    declared_at INTEGER NOT NULL,
    PRIMARY KEY (person, number)
);
CREATE INDEX incident_roles_rank ON incident_roles (person, severity, declared_at, number);
CREATE INDEX incident_roles_by_incident ON incident_roles (number);
INSERT OR IGNORE INTO incident_roles (person, number, severity, declared_at)
SELECT CASE
           WHEN r.value LIKE '<@%' THEN
               lower(substr(r.value, 1, CASE WHEN instr(r.value, '|') > 0
                                             THEN instr(r.value, '|') - 1
                                             ELSE instr(r.value, '>') - 1 END)) || '>'
           ELSE lower(ltrim(trim(r.value), '@'))
       END,
       i.number, i.severity, i.declared_at
FROM incidents i, json_each(i.state, '$.roles') r
WHERE i.status <> 'resolved';

-- How many incidents are open, per severity: the "…and N more" of a list costs one small row
-- read, however many are open. Kept by triggers, so every write path keeps it true; a write
-- that changes neither the severity nor whether the incident is open does not touch it.
CREATE TABLE open_counts (
    severity INTEGER PRIMARY KEY,
    open     INTEGER NOT NULL
);
INSERT INTO open_counts (severity, open) VALUES (1, 0), (2, 0), (3, 0), (4, 0);
UPDATE open_counts SET open = (
    SELECT COUNT(*) FROM incidents
    WHERE incidents.status <> 'resolved' AND incidents.severity = open_counts.severity
);

CREATE TRIGGER incidents_open_count_insert AFTER INSERT ON incidents
WHEN new.status <> 'resolved'
BEGIN
    UPDATE open_counts SET open = open + 1 WHERE severity = new.severity;
END;

CREATE TRIGGER incidents_open_count_update AFTER UPDATE OF status, severity ON incidents
WHEN (old.status <> 'resolved') <> (new.status <> 'resolved') OR old.severity <> new.severity
BEGIN
    UPDATE open_counts SET open = open - 1
        WHERE old.status <> 'resolved' AND severity = old.severity;
    UPDATE open_counts SET open = open + 1
        WHERE new.status <> 'resolved' AND severity = new.severity;
END;

CREATE TRIGGER incidents_open_count_delete AFTER DELETE ON incidents
WHEN old.status <> 'resolved'
BEGIN
    UPDATE open_counts SET open = open - 1 WHERE severity = old.severity;
END;
