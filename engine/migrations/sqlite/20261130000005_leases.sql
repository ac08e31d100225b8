-- Leases (see the PostgreSQL migration of the same name); times in Unix milliseconds.
CREATE TABLE IF NOT EXISTS cg_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    acquired_at INTEGER NOT NULL
);
