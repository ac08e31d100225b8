-- The fleet's billing totals: how many droplets are billed as each provider, region and size
-- (`id` is `provider/region/size`), kept by the droplets projection with its rows, so the
-- fleet's bill reads these few rows instead of every droplet
-- (projections/src/read_models/billing.rs).
CREATE TABLE IF NOT EXISTS rm_billing_totals (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    region TEXT NOT NULL,
    size TEXT NOT NULL,
    droplet_count BIGINT NOT NULL,
    last_position BIGINT NOT NULL
);
-- The totals are counted from every droplet event since the first: the droplets projection
-- starts again from the beginning of the log (its rows are refolded as the worker catches
-- up). A rebuild of it that was running fills shadow tables without the totals: it is
-- marked failed (start it again; the live tables are untouched).
DELETE FROM rm_droplets;
DELETE FROM rm_droplet_cluster_names;
DELETE FROM rm_dead_letters WHERE projection = 'droplets';
UPDATE rm_checkpoints SET position = 0 WHERE projection = 'droplets';
UPDATE rm_rebuilds SET status = 'failed',
    error = 'interrupted by an upgrade that changed the table shape; start the rebuild again'
    WHERE status = 'running' AND projection = 'droplets';
