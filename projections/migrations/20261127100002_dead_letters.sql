-- Events a projection could not apply after its retries: parked, so that the projection
-- moves on, and listed (and retried) through the API.
CREATE TABLE IF NOT EXISTS rm_dead_letters (
    id TEXT PRIMARY KEY,
    projection TEXT NOT NULL,
    position BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    parked_at TEXT NOT NULL,
    retried_at TEXT,
    UNIQUE (projection, position)
);
