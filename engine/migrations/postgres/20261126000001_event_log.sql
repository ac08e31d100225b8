-- The global log. Positions are assigned under the row lock of cg_log_head, held until
-- commit, so positions grow by one per event in commit order (see docs/architecture.md).
CREATE TABLE IF NOT EXISTS cg_log_head (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO cg_log_head (id, position) VALUES (1, 0) ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS cg_streams (
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
);

CREATE TABLE IF NOT EXISTS cg_events (
    position BIGINT PRIMARY KEY,
    id UUID NOT NULL UNIQUE,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    data JSONB NOT NULL,
    metadata JSONB NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
);
CREATE INDEX IF NOT EXISTS cg_events_type_idx ON cg_events (event_type, position);
CREATE INDEX IF NOT EXISTS cg_events_recorded_at_idx ON cg_events (recorded_at);

-- One row per event for the Kafka relay; written in the same transaction as the event.
CREATE TABLE IF NOT EXISTS cg_outbox (
    position BIGINT PRIMARY KEY,
    published_at TIMESTAMPTZ
);

CREATE TABLE IF NOT EXISTS cg_idempotency (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body JSONB NOT NULL,
    position BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
