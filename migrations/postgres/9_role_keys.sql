-- Role rows keyed exactly as `engine::incident::person_key` keys them: trimmed, a leading `@`
-- dropped, ASCII letters lowercased and every other letter kept. Migration 6 lowercased with
-- `lower()`, which on Postgres lowercases every letter, so a holder such as "Ângela" was filed
-- under "ângela" and `inc list mine` missed that incident until it next changed. Rebuilt from the
-- open incidents' states.
DELETE FROM incident_roles;
INSERT INTO incident_roles (person, number, severity, declared_at)
SELECT DISTINCT
       CASE
           WHEN btrim(r.value) LIKE '<@%' THEN
               translate(split_part(split_part(btrim(r.value), '|', 1), '>', 1),
                         'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') || '>'
           ELSE translate(ltrim(btrim(r.value), '@'),
                          'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')
       END,
       i.number, i.severity, i.declared_at
FROM incidents i, jsonb_each_text(i.state::jsonb -> 'roles') r
WHERE i.status <> 'resolved'
ON CONFLICT DO NOTHING;
