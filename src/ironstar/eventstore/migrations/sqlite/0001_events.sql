-- Events, streams and snapshots. position is the rowid: assigned by the single
-- writer inside its transaction, so global order equals commit order.
CREATE TABLE events (
    position        INTEGER PRIMARY KEY,
    event_id        TEXT    NOT NULL UNIQUE,
    stream_id       TEXT    NOT NULL,
    stream_type     TEXT    NOT NULL,
    stream_version  INTEGER NOT NULL,
    event_type      TEXT    NOT NULL,
    event_version   INTEGER NOT NULL,
    payload         BLOB    NOT NULL,
    user_id         TEXT,
    causation_id    TEXT,
    correlation_id  TEXT,
    transaction_id  TEXT    NOT NULL,
    recorded_at     REAL    NOT NULL,
    UNIQUE (stream_id, stream_version)
);
CREATE INDEX events_by_stream_type ON events (stream_type, position);
CREATE INDEX events_by_event_type ON events (event_type, position);

-- A stream exists once its version-1 event does: this partial index lists the
-- streams of a type without a separate table to keep in step on every append.
CREATE INDEX events_stream_starts ON events (stream_type, stream_id) WHERE stream_version = 1;

CREATE TABLE snapshots (
    stream_id       TEXT PRIMARY KEY,
    stream_version  INTEGER NOT NULL,
    schema_version  INTEGER NOT NULL,
    state           BLOB    NOT NULL,
    recorded_at     REAL    NOT NULL
);
