-- Heartbeats: each one's last ping. Whether one is missed is a durable job (kind 'heartbeat')
-- planned with each ping; the incident it opens is an alert of the source 'heartbeat:<id>'.
CREATE TABLE heartbeats (
    id         TEXT    PRIMARY KEY,
    last_ping  BIGINT  NOT NULL,
    pings      BIGINT  NOT NULL
);
