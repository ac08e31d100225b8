-- Metric samples: telemetry beside the log, never events (see docs/monitoring.md and the
-- PostgreSQL migration of the same name, which these tables mirror). `ts` and `minute`
-- are microseconds since the Unix epoch (UTC).
CREATE TABLE IF NOT EXISTS cg_metric_samples (
    id INTEGER PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    droplet_id TEXT,
    metric_type TEXT NOT NULL,
    value REAL NOT NULL,
    ts INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS cg_metric_samples_cluster_type_ts
    ON cg_metric_samples (cluster_id, metric_type, ts, id);
CREATE INDEX IF NOT EXISTS cg_metric_samples_cluster_ts ON cg_metric_samples (cluster_id, ts, id);
CREATE INDEX IF NOT EXISTS cg_metric_samples_droplet_ts
    ON cg_metric_samples (droplet_id, ts, id) WHERE droplet_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS cg_metric_samples_ts ON cg_metric_samples (ts, id);

CREATE TABLE IF NOT EXISTS cg_metric_rollups (
    cluster_id TEXT NOT NULL,
    droplet_id TEXT NOT NULL DEFAULT '',
    metric_type TEXT NOT NULL,
    minute INTEGER NOT NULL,
    count INTEGER NOT NULL,
    sum REAL NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    PRIMARY KEY (cluster_id, metric_type, minute, droplet_id)
);
CREATE INDEX IF NOT EXISTS cg_metric_rollups_droplet
    ON cg_metric_rollups (droplet_id, metric_type, minute) WHERE droplet_id <> '';
CREATE INDEX IF NOT EXISTS cg_metric_rollups_type_minute ON cg_metric_rollups (metric_type, minute);
CREATE INDEX IF NOT EXISTS cg_metric_rollups_minute ON cg_metric_rollups (minute);
