-- The log is the outbox. Positions are gap-free and safe to tail, so what a relay has yet to
-- publish is exactly the events after the position the broker last acknowledged: a relay
-- keeps that one position here instead of one outbox row per event. Every event is its own
-- outbox entry, in the same transaction by construction (see docs/architecture.md).
DROP TABLE IF EXISTS cg_outbox;
CREATE TABLE IF NOT EXISTS cg_relay_positions (
    relay TEXT PRIMARY KEY,
    position BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Positions are ordered by the primary key on cg_events.position (a writer that is not up to
-- date collides on it) and, for a writer that must read the head, by an advisory lock; the
-- head is MAX(position). The head row and its per-batch update are gone.
DROP TABLE IF EXISTS cg_log_head;
