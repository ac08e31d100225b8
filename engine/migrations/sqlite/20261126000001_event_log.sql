-- The global log. SQLite has one writer at a time (BEGIN IMMEDIATE), so positions grow by
-- one per event in commit order.
CREATE TABLE IF NOT EXISTS cg_log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT OR IGNORE INTO cg_log_head (id, position) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS cg_streams (
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

CREATE TABLE IF NOT EXISTS cg_events (
    position INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at TEXT NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
);
CREATE INDEX IF NOT EXISTS cg_events_type_idx ON cg_events (event_type, position);
CREATE INDEX IF NOT EXISTS cg_events_recorded_at_idx ON cg_events (recorded_at);

CREATE TABLE IF NOT EXISTS cg_outbox (
    position INTEGER PRIMARY KEY,
    published_at TEXT
);

CREATE TABLE IF NOT EXISTS cg_idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
