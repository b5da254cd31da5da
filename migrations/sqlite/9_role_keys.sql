-- Role rows keyed exactly as `engine::incident::person_key` keys them: trimmed, a leading `@`
-- dropped, ASCII letters lowercased and every other letter kept (SQLite's `lower()` lowercases
-- ASCII only). Rebuilt from the open incidents' states, as on Postgres, where migration 6
-- lowercased every letter; here it also trims a mention before reading its id.
DELETE FROM incident_roles;
INSERT OR IGNORE INTO incident_roles (person, number, severity, declared_at)
SELECT CASE
           WHEN trim(r.value) LIKE '<@%' THEN
               lower(substr(trim(r.value), 1, CASE WHEN instr(trim(r.value), '|') > 0
                                                   THEN instr(trim(r.value), '|') - 1
                                                   ELSE instr(trim(r.value), '>') - 1 END)) || '>'
           ELSE lower(ltrim(trim(r.value), '@'))
       END,
       i.number, i.severity, i.declared_at
FROM incidents i, json_each(i.state, '$.roles') r
WHERE i.status <> 'resolved';
