-- Readers that follow one aggregate type (the job runtime, the provider registry) or one
-- aggregate (GET /v1/events?aggregate_id=) read `position > $1` within it: these indexes
-- make each such read a range scan over the new events only, however long the log.
CREATE INDEX IF NOT EXISTS cg_events_aggregate_type_idx ON cg_events (aggregate_type, position);
CREATE INDEX IF NOT EXISTS cg_events_aggregate_id_idx ON cg_events (aggregate_id, position);
