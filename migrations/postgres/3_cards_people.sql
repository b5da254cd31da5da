-- Private replies (shown only to one user, e.g. a Slack ephemeral message), the message that
-- carries each incident's card in a chat (so it is edited in place, not posted again), and the
-- names behind platform user ids (so a Slack mention reads as @name in other rooms).

ALTER TABLE outbox ADD COLUMN recipient TEXT;

CREATE TABLE cards (
    platform   TEXT    NOT NULL,
    chat       TEXT    NOT NULL,
    incident   BIGINT  NOT NULL,
    message_id TEXT    NOT NULL,
    -- The outbox row whose content the card shows: an older row never overwrites a newer one.
    outbox_id  BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (platform, chat, incident)
);

CREATE TABLE people (
    platform   TEXT    NOT NULL,
    user_id    TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    updated_at BIGINT  NOT NULL,
    PRIMARY KEY (platform, user_id)
);
