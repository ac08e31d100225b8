-- Cluster, droplet and job rows keep the folded aggregate (`state`) only; the API's view is
-- rendered from it when read (the same function the command answers use), so a row is
-- written with half the bytes. A rebuild that was running fills shadow tables of the old
-- shape: it is marked failed (start it again; the live tables are untouched).
ALTER TABLE rm_clusters DROP COLUMN view;
ALTER TABLE rm_droplets DROP COLUMN view;
ALTER TABLE rm_jobs DROP COLUMN view;
UPDATE rm_rebuilds SET status = 'failed',
    error = 'interrupted by an upgrade that changed the table shape; start the rebuild again'
    WHERE status = 'running' AND projection IN ('clusters', 'droplets', 'jobs');
