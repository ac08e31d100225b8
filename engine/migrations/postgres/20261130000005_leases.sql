-- Leases: one holder at a time for work that must not run twice at once (the Kafka relay).
-- A holder renews before `expires_at`; once it has passed, another may take the lease. Times
-- are the database's own, so the clocks of the processes never have to agree.
CREATE TABLE IF NOT EXISTS cg_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL
);
