-- The scheduler: durable jobs (update reminders, escalation steps, cron schedules, on-call
-- handoffs), the checklists schedules post, on-call overrides set from chat and the notes left
-- for the next handoff.

-- One row per occurrence: `key` names it (`reminder:7:<due ms>`), so two replicas planning the
-- same occurrence write one row, and a fired one is never planned again. `subject` groups the
-- jobs one change re-plans (`incident:7`, `schedule:morning`, `rotation:ops`). A job is
-- claimed like an outbox row: `running` under a lease, taken over when the lease ends.
CREATE TABLE jobs (
    id          BIGSERIAL PRIMARY KEY,
    kind        TEXT    NOT NULL,
    key         TEXT    NOT NULL UNIQUE,
    subject     TEXT    NOT NULL,
    due_at      BIGINT  NOT NULL,
    -- When it may be claimed: its due time, or later after a failed attempt.
    run_after   BIGINT  NOT NULL,
    payload     TEXT    NOT NULL,
    -- pending | running | done | cancelled | dead
    state       TEXT    NOT NULL DEFAULT 'pending',
    attempts    BIGINT  NOT NULL DEFAULT 0,
    lease_until BIGINT,
    claimed_by  TEXT,
    fired_at    BIGINT,
    last_error  TEXT,
    created_at  BIGINT  NOT NULL
);
-- A tick reads only what is due: its cost follows the due jobs, not the planned ones.
CREATE INDEX jobs_due ON jobs (state, run_after);
CREATE INDEX jobs_by_subject ON jobs (subject, kind, state);

-- A checklist a schedule posted; items are JSON: text, and who ticked it when.
CREATE TABLE checklists (
    id        BIGSERIAL PRIMARY KEY,
    schedule  TEXT    NOT NULL,
    title     TEXT    NOT NULL,
    rooms     TEXT    NOT NULL,
    posted_at BIGINT  NOT NULL,
    items     TEXT    NOT NULL
);

-- `inc oncall override @x 2h`: who holds a rotation's first role from `starts_at` to `ends_at`.
CREATE TABLE oncall_overrides (
    id        BIGSERIAL PRIMARY KEY,
    rotation  TEXT    NOT NULL,
    person    TEXT    NOT NULL,
    starts_at BIGINT  NOT NULL,
    ends_at   BIGINT  NOT NULL,
    set_by    TEXT    NOT NULL
);
CREATE INDEX oncall_overrides_by_rotation ON oncall_overrides (rotation, ends_at);

-- `inc handoff note …`: kept for the rotation's next handoff summary, then marked as handed over.
CREATE TABLE handoff_notes (
    id           BIGSERIAL PRIMARY KEY,
    rotation     TEXT    NOT NULL,
    author       TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    at           BIGINT  NOT NULL,
    handed_at    BIGINT
);
CREATE INDEX handoff_notes_open ON handoff_notes (rotation, handed_at);
