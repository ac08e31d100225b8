-- A stream's head (last sequence and hash) is read from cg_events through its
-- (aggregate_type, aggregate_id, sequence) key; a separate table only cost a write per batch.
DROP TABLE IF EXISTS cg_streams;
