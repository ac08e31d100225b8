-- The auto-scaling decision history: every evaluation's outcome, acting or not, beside the
-- log (only acting decisions are events, `autoscaling.decided`). Consecutive evaluations of
-- a cluster with the same outcome (decision and code, not acting) share one row whose
-- `last_at_us`, `evaluations` and `inputs` the newest bumps; at most 100 rows per cluster
-- are kept (engine/src/autoscaling/store). Times are microseconds since the Unix epoch.
CREATE TABLE IF NOT EXISTS cg_autoscaling_decisions (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    at_us BIGINT NOT NULL,
    last_at_us BIGINT NOT NULL,
    evaluations BIGINT NOT NULL,
    trigger_kind TEXT NOT NULL,
    decision TEXT NOT NULL,
    droplet_count BIGINT NOT NULL,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    inputs TEXT NOT NULL,
    job_id TEXT,
    event_position BIGINT
);
CREATE INDEX IF NOT EXISTS cg_autoscaling_decisions_cluster_at
    ON cg_autoscaling_decisions (cluster_id, at_us DESC, id DESC);
