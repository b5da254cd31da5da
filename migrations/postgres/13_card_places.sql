-- Where an incident's card lives besides its message: the incident's own place in the chat (a
-- Telegram forum topic), and whether that place is closed now (the incident resolved). A card
-- row whose `message_id` is still '' holds a place made before its card message was posted, so
-- a retry after a crash in between reuses the place instead of making a second one.
ALTER TABLE cards ADD COLUMN thread TEXT;
ALTER TABLE cards ADD COLUMN closed BOOLEAN NOT NULL DEFAULT FALSE;
