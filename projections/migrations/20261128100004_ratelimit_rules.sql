-- Rate-limit rules set through the API, one row per rule name (`id`); built-in defaults
-- have no row until overridden.
-- `configured` is 1 while the rule is set, 0 once deleted.
CREATE TABLE IF NOT EXISTS rm_ratelimit_rules (
    id TEXT PRIMARY KEY,
    configured BIGINT NOT NULL,
    view TEXT NOT NULL,
    state TEXT NOT NULL,
    last_position BIGINT NOT NULL
);
