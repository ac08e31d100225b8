-- `GET /v1/jobs?droplet_id=`: the droplet a job works on gets a column (empty for a job
-- of no droplet) and an index per sort, like the other filters (projections/src/lists.rs).
-- Rows written before have it empty: the first start after this upgrade fills them from
-- their `state`, once, as long as `rm_backfills` names the column
-- (projections/src/read_models/jobs.rs). A rebuild of the jobs model that was running
-- fills a shadow table of the old shape: it is marked failed (start it again).
ALTER TABLE rm_jobs ADD COLUMN droplet_id TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS rm_jobs_droplet_created_idx ON rm_jobs (droplet_id, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_droplet_id_idx ON rm_jobs (droplet_id, id);
CREATE TABLE IF NOT EXISTS rm_backfills (
    name TEXT PRIMARY KEY
);
INSERT INTO rm_backfills (name) VALUES ('rm_jobs.droplet_id');
UPDATE rm_rebuilds SET status = 'failed',
    error = 'interrupted by an upgrade that changed the table shape; start the rebuild again'
    WHERE status = 'running' AND projection = 'jobs';
