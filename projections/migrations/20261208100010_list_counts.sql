-- How many rows each list filter shows, kept by the projections with their rows, so a
-- list's `total` is one primary-key read instead of a count over the rows
-- (projections/src/read_models/list_counts.rs). `id` is the filter: '' for none,
-- 'status=running', 'cluster_id=cl_…', 'job_type=provision'.
CREATE TABLE IF NOT EXISTS rm_cluster_counts (
    id TEXT PRIMARY KEY,
    n BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rm_droplet_counts (
    id TEXT PRIMARY KEY,
    n BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rm_job_counts (
    id TEXT PRIMARY KEY,
    n BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
-- Counted once from the rows as they are (the projections move them from here on). A
-- count's `last_position` is the last event that moved a row into or out of it; counted
-- here, it is the newest row's instead, until the next move (a rebuild writes the exact one).
INSERT INTO rm_cluster_counts (id, n, last_position)
    SELECT '', COUNT(*), MAX(last_position) FROM rm_clusters WHERE deleted = 0
    HAVING COUNT(*) > 0;
INSERT INTO rm_cluster_counts (id, n, last_position)
    SELECT 'status=' || status, COUNT(*), MAX(last_position) FROM rm_clusters
    WHERE deleted = 0 GROUP BY status;
INSERT INTO rm_droplet_counts (id, n, last_position)
    SELECT '', COUNT(*), MAX(last_position) FROM rm_droplets WHERE status <> 'destroyed'
    HAVING COUNT(*) > 0;
INSERT INTO rm_droplet_counts (id, n, last_position)
    SELECT 'cluster_id=' || cluster_id, COUNT(*), MAX(last_position) FROM rm_droplets
    WHERE status <> 'destroyed' GROUP BY cluster_id;
INSERT INTO rm_droplet_counts (id, n, last_position)
    SELECT 'status=' || status, COUNT(*), MAX(last_position) FROM rm_droplets GROUP BY status;
INSERT INTO rm_job_counts (id, n, last_position)
    SELECT '', COUNT(*), MAX(last_position) FROM rm_jobs HAVING COUNT(*) > 0;
INSERT INTO rm_job_counts (id, n, last_position)
    SELECT 'status=' || status, COUNT(*), MAX(last_position) FROM rm_jobs GROUP BY status;
INSERT INTO rm_job_counts (id, n, last_position)
    SELECT 'job_type=' || job_type, COUNT(*), MAX(last_position) FROM rm_jobs GROUP BY job_type;
INSERT INTO rm_job_counts (id, n, last_position)
    SELECT 'cluster_id=' || cluster_id, COUNT(*), MAX(last_position) FROM rm_jobs
    GROUP BY cluster_id;
-- A rebuild that was running fills shadow tables without the counts: it is marked failed
-- (start it again; the live tables are untouched).
UPDATE rm_rebuilds SET status = 'failed',
    error = 'interrupted by an upgrade that changed the table shape; start the rebuild again'
    WHERE status = 'running' AND projection IN ('clusters', 'droplets', 'jobs');
