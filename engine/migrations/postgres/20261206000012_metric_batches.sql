-- The idempotency keys of metric batches (`POST /v1/metrics` with `Idempotency-Key`): the
-- request's digest and the first answer, stored in the transaction that stores the samples,
-- and expired with the raw samples. `created_at` in microseconds since the epoch.
CREATE TABLE IF NOT EXISTS cg_metric_batches (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    reply TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS cg_metric_batches_created_idx ON cg_metric_batches (created_at);
