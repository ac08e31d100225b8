-- List queries read their page in index order and stop (see projections/src/lists.rs):
-- one index per filter combination and sort, `id` last as the tiebreaker; partial indexes
-- leave out the rows a list hides by default (deleted clusters, destroyed droplets). The
-- same indexes are declared in projections/src/read_models/tables.rs for rebuilds and
-- replays. The trigram search indexes are backend-specific and made at start
-- (projections/src/read_models/search.rs).
DROP INDEX IF EXISTS rm_clusters_name_idx;
DROP INDEX IF EXISTS rm_clusters_created_idx;
DROP INDEX IF EXISTS rm_droplets_cluster_idx;
DROP INDEX IF EXISTS rm_droplets_created_idx;
DROP INDEX IF EXISTS rm_jobs_cluster_idx;
DROP INDEX IF EXISTS rm_jobs_created_idx;
CREATE INDEX IF NOT EXISTS rm_clusters_created_idx ON rm_clusters (created_at, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_clusters_name_idx ON rm_clusters (name, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_clusters_region_idx ON rm_clusters (region, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_clusters_status_created_idx ON rm_clusters (status, created_at, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_clusters_status_name_idx ON rm_clusters (status, name, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_clusters_status_region_idx ON rm_clusters (status, region, id) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS rm_droplets_live_created_idx ON rm_droplets (created_at, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_live_name_idx ON rm_droplets (name, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_live_status_idx ON rm_droplets (status, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_live_cluster_created_idx ON rm_droplets (cluster_id, created_at, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_live_cluster_name_idx ON rm_droplets (cluster_id, name, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_live_cluster_status_idx ON rm_droplets (cluster_id, status, id) WHERE status <> 'destroyed';
CREATE INDEX IF NOT EXISTS rm_droplets_status_created_idx ON rm_droplets (status, created_at, id);
CREATE INDEX IF NOT EXISTS rm_droplets_status_name_idx ON rm_droplets (status, name, id);
CREATE INDEX IF NOT EXISTS rm_droplets_status_id_idx ON rm_droplets (status, id);
CREATE INDEX IF NOT EXISTS rm_droplets_cluster_status_created_idx ON rm_droplets (cluster_id, status, created_at, id);
CREATE INDEX IF NOT EXISTS rm_droplets_cluster_status_name_idx ON rm_droplets (cluster_id, status, name, id);
CREATE INDEX IF NOT EXISTS rm_droplets_cluster_status_id_idx ON rm_droplets (cluster_id, status, id);
CREATE INDEX IF NOT EXISTS rm_jobs_created_idx ON rm_jobs (created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_created_idx ON rm_jobs (cluster_id, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_status_created_idx ON rm_jobs (status, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_type_created_idx ON rm_jobs (job_type, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_status_created_idx ON rm_jobs (cluster_id, status, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_type_created_idx ON rm_jobs (cluster_id, job_type, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_status_type_created_idx ON rm_jobs (status, job_type, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_status_type_created_idx ON rm_jobs (cluster_id, status, job_type, created_at, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_id_idx ON rm_jobs (cluster_id, id);
CREATE INDEX IF NOT EXISTS rm_jobs_status_id_idx ON rm_jobs (status, id);
CREATE INDEX IF NOT EXISTS rm_jobs_type_id_idx ON rm_jobs (job_type, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_status_id_idx ON rm_jobs (cluster_id, status, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_type_id_idx ON rm_jobs (cluster_id, job_type, id);
CREATE INDEX IF NOT EXISTS rm_jobs_status_type_id_idx ON rm_jobs (status, job_type, id);
CREATE INDEX IF NOT EXISTS rm_jobs_cluster_status_type_id_idx ON rm_jobs (cluster_id, status, job_type, id);
CREATE INDEX IF NOT EXISTS rm_ratelimit_rules_configured_idx ON rm_ratelimit_rules (configured, id);
