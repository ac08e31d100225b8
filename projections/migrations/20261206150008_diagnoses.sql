-- `GET /v1/clusters/{id}/diagnoses`: one row per diagnosis (`diagnosis.completed`), its
-- view kept up to date with the recommendations implemented since; a cluster's list reads
-- its index newest first (projections/src/read_models/diagnoses.rs).
CREATE TABLE IF NOT EXISTS rm_diagnoses (
    id TEXT PRIMARY KEY,
    cluster_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    view TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS rm_diagnoses_cluster_position_idx ON rm_diagnoses (cluster_id, position DESC);
