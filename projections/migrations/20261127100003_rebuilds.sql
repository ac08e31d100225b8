-- The latest rebuild of each projection (see projections/src/rebuild.rs). A row in status
-- 'running' means shadow tables exist and are being filled: a process that starts resumes it.
CREATE TABLE IF NOT EXISTS rm_rebuilds (
    projection TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    generation TEXT NOT NULL,
    position BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    error TEXT
);
