-- The log is the outbox (see the PostgreSQL migration of the same name): a relay keeps the
-- last position the broker acknowledged instead of one outbox row per event.
DROP TABLE IF EXISTS cg_outbox;
CREATE TABLE IF NOT EXISTS cg_relay_positions (
    relay TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
