-- `rm_autoscaling`: a cluster's auto-scaling policy (`policy` JSON, NULL once removed) with
-- the time and cluster stream version that set it, and its last acting decision; the
-- autoscaler's rounds read the enabled rows (projections/src/read_models/autoscaling.rs).
CREATE TABLE IF NOT EXISTS rm_autoscaling (
    cluster_id TEXT PRIMARY KEY,
    enabled BIGINT NOT NULL,
    policy TEXT,
    updated_at TEXT,
    version BIGINT,
    last_acting_at TEXT,
    last_job_id TEXT,
    last_position BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_autoscaling_enabled_idx ON rm_autoscaling (enabled, cluster_id);
