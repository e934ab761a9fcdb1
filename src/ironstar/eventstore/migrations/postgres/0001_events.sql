-- Events, streams and snapshots. Writers lock the single head row for the whole
-- transaction, so positions are handed out in commit order and a reader can never
-- see position N+1 before N: no late commits to miss.
CREATE TABLE events (
    position        BIGINT  PRIMARY KEY,
    event_id        UUID    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_type     TEXT    NOT NULL,
    stream_version  BIGINT  NOT NULL,
    event_type      TEXT    NOT NULL,
    event_version   INTEGER NOT NULL,
    payload         JSONB   NOT NULL,
    user_id         TEXT,
    causation_id    TEXT,
    correlation_id  TEXT,
    transaction_id  TEXT    NOT NULL,
    recorded_at     DOUBLE PRECISION NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_by_stream_type ON events (stream_type, position);
CREATE INDEX events_by_event_type ON events (event_type, position);

-- A stream exists once its version-1 event does: this partial index lists the
-- streams of a type without a separate table to keep in step on every append.
CREATE INDEX events_stream_starts ON events (stream_type, stream_id) WHERE stream_version = 1;

CREATE TABLE snapshots (
    stream_id       TEXT PRIMARY KEY,
    stream_version  BIGINT  NOT NULL,
    schema_version  INTEGER NOT NULL,
    state           BYTEA   NOT NULL,
    recorded_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    position  BIGINT NOT NULL
);
INSERT INTO head (id, position) VALUES (1, 0);
