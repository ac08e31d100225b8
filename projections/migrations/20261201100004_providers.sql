-- The providers read model: one row per registered provider configuration (the built-in
-- defaults have no events and no row; the API lists them from the engine's defaults).
-- `id` is the provider name (the aggregate id).
CREATE TABLE IF NOT EXISTS rm_providers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
