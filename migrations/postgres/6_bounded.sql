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
    number      BIGINT  NOT NULL REFERENCES incidents (number),
    severity    BIGINT  NOT NULL,
    declared_at BIGINT  NOT NULL,
    PRIMARY KEY (person, number)
);
CREATE INDEX incident_roles_rank ON incident_roles (person, severity, declared_at, number);
CREATE INDEX incident_roles_by_incident ON incident_roles (number);
INSERT INTO incident_roles (person, number, severity, declared_at)
SELECT DISTINCT
       CASE
           WHEN r.value LIKE '<@%' THEN
               lower(split_part(split_part(r.value, '|', 1), '>', 1)) || '>'
           ELSE lower(ltrim(btrim(r.value), '@'))
       END,
       i.number, i.severity, i.declared_at
FROM incidents i, jsonb_each_text(i.state::jsonb -> 'roles') r
WHERE i.status <> 'resolved'
ON CONFLICT DO NOTHING;

-- How many incidents are open, per severity: the "…and N more" of a list costs one small row
-- read, however many are open. Kept by a trigger, so every write path keeps it true; a write
-- that changes neither the severity nor whether the incident is open does not touch it (nor
-- lock its row).
CREATE TABLE open_counts (
    severity BIGINT PRIMARY KEY,
    open     BIGINT NOT NULL
);
INSERT INTO open_counts (severity, open) VALUES (1, 0), (2, 0), (3, 0), (4, 0);
UPDATE open_counts SET open = (
    SELECT COUNT(*) FROM incidents
    WHERE incidents.status <> 'resolved' AND incidents.severity = open_counts.severity
);

CREATE FUNCTION incidents_open_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'resolved' THEN
        UPDATE open_counts SET open = open - 1 WHERE severity = OLD.severity;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'resolved' THEN
        UPDATE open_counts SET open = open + 1 WHERE severity = NEW.severity;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_open_count_insert_delete AFTER INSERT OR DELETE ON incidents
FOR EACH ROW EXECUTE FUNCTION incidents_open_count();

CREATE TRIGGER incidents_open_count_update AFTER UPDATE OF status, severity ON incidents
FOR EACH ROW
WHEN ((OLD.status <> 'resolved') IS DISTINCT FROM (NEW.status <> 'resolved')
      OR OLD.severity IS DISTINCT FROM NEW.severity)
EXECUTE FUNCTION incidents_open_count();
