-- Read models. Portable SQL (PostgreSQL and SQLite): times are RFC 3339 text with
-- microseconds (sorts chronologically), flags are 0/1 integers, JSON is text.
CREATE TABLE IF NOT EXISTS rm_checkpoints (
    projection TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    last_error TEXT
);

CREATE TABLE IF NOT EXISTS rm_clusters (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    deleted BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_clusters_name_idx ON rm_clusters (name);
CREATE INDEX IF NOT EXISTS rm_clusters_created_idx ON rm_clusters (created_at);

CREATE TABLE IF NOT EXISTS rm_droplets (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_droplets_cluster_idx ON rm_droplets (cluster_id);
CREATE INDEX IF NOT EXISTS rm_droplets_created_idx ON rm_droplets (created_at);

-- The droplets projection's own copy of cluster names (projections are self-contained).
CREATE TABLE IF NOT EXISTS rm_droplet_cluster_names (
    cluster_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    last_position BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS rm_jobs (
    id TEXT PRIMARY KEY,
    job_type TEXT NOT NULL,
    cluster_id TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_idx ON rm_jobs (cluster_id);
CREATE INDEX IF NOT EXISTS rm_jobs_created_idx ON rm_jobs (created_at);
