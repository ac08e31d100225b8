-- GET /v1/events?actor= and ?correlation_id= (see the PostgreSQL migration of the same
-- name): expression indexes on the stored metadata. SQLite uses an index on an expression
-- only for the same expression written the same way, so the statements of
-- `engine::store::sql` read `metadata->>'actor'` exactly as here.
CREATE INDEX IF NOT EXISTS cg_events_actor_idx ON cg_events ((metadata->>'actor'), position);
CREATE INDEX IF NOT EXISTS cg_events_correlation_idx
    ON cg_events ((metadata->>'correlation_id'), position);
