-- GET /v1/events?actor= and ?correlation_id= follow one actor or one request across
-- aggregates, forward (`position > $1`) or back (`position < $1 ... DESC`). These are
-- expression indexes on the metadata the log already stores rather than columns of their
-- own: every writer (both appenders, the batched plans) keeps writing the row as it is, the
-- indexes are filled from the existing rows when created (no backfill of a long log in an
-- UPDATE), and `metadata->>'actor'` is the same expression on both backends (`jsonb` here,
-- JSON text on SQLite). A read by either walks its index from the position on, however
-- long the log (`engine::store::sql::read_all` says how the statement makes sure of it).
CREATE INDEX IF NOT EXISTS cg_events_actor_idx ON cg_events ((metadata->>'actor'), position);
CREATE INDEX IF NOT EXISTS cg_events_correlation_idx
    ON cg_events ((metadata->>'correlation_id'), position);
