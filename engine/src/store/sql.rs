//! SQL both backends run as it is (numbered placeholders work on PostgreSQL and SQLite).

macro_rules! event_columns {
    () => {
        "position, id, aggregate_type, aggregate_id, sequence, event_type, schema_version, \
         recorded_at, data, metadata, hash"
    };
}

/// Columns of `cg_events`, in the order the row decoders read them.
pub const EVENT_COLUMNS: &str = event_columns!();

/// Events after a position, with only what a fold reads (`EventStore::read_for_folding`).
pub const READ_FOR_FOLDING: &str = "SELECT position, aggregate_type, aggregate_id, sequence, \
     event_type, schema_version, recorded_at, CAST(data AS TEXT) \
     FROM cg_events WHERE position > $1 ORDER BY position LIMIT $2";

/// One stream's events after a sequence, up to a position.
pub const READ_STREAM_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM cg_events WHERE aggregate_type = $1 AND aggregate_id = $2 \
     AND sequence > $3 AND position <= $4 ORDER BY sequence"
);

/// The last position recorded at or before a time (`$1`: a `timestamptz` on PostgreSQL,
/// the text of [`format_time`](super::format_time) on SQLite, which sorts the same).
pub const POSITION_AT: &str =
    "SELECT COALESCE(MAX(position), 0) FROM cg_events WHERE recorded_at <= $1";

/// The idempotency record under a key (decoded by each backend's `idempotency_row`).
pub const READ_IDEMPOTENCY: &str =
    "SELECT key, fingerprint, status, body, position FROM cg_idempotency WHERE key = $1";

/// Stores a snapshot unless a newer one is there.
pub const SAVE_SNAPSHOT: &str = "INSERT INTO cg_snapshots (aggregate_type, aggregate_id, \
     version, position, state) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE \
     SET version = excluded.version, position = excluded.position, state = excluded.state \
     WHERE cg_snapshots.version < excluded.version";

/// A stream's snapshot.
pub const LOAD_SNAPSHOT: &str = "SELECT version, position, state FROM cg_snapshots \
     WHERE aggregate_type = $1 AND aggregate_id = $2";

/// A relay's acknowledged position.
pub const RELAY_POSITION: &str =
    "SELECT COALESCE(MAX(position), 0) FROM cg_relay_positions WHERE relay = $1";

/// Moves a relay's acknowledged position forward (never back).
pub const ACKNOWLEDGE: &str = "INSERT INTO cg_relay_positions (relay, position, updated_at) \
     VALUES ($1, $2, $3) ON CONFLICT (relay) DO UPDATE \
     SET position = excluded.position, updated_at = excluded.updated_at \
     WHERE cg_relay_positions.position < excluded.position";

/// Gives a lease up (its holder only).
pub const RELEASE_LEASE: &str = "DELETE FROM cg_leases WHERE name = $1 AND holder = $2";

/// The events after `$1` matching `filter`, in position order, at most `$n` (the last
/// placeholder). Only the filters that are set appear in the statement, so that every
/// shape has a plan that is an index range scan however it is prepared: a generic plan of
/// `($2 IS NULL OR aggregate_type = $2)` cannot know which filters apply and scans the log.
/// Bind `after`, then the set filters in the order of [`filter_values`], then the limit.
pub fn read_all(filter: &super::EventFilter) -> String {
    let mut sql = concat!(
        "SELECT ",
        event_columns!(),
        " FROM cg_events WHERE position > $1"
    )
    .to_owned();
    let columns = ["aggregate_type", "aggregate_id", "event_type"];
    let mut placeholder = 1;
    for (column, value) in columns.iter().zip(filter_slots(filter)) {
        if value.is_some() {
            placeholder += 1;
            sql.push_str(&format!(" AND {column} = ${placeholder}"));
        }
    }
    sql.push_str(&format!(" ORDER BY position LIMIT ${}", placeholder + 1));
    sql
}

/// The set filters of `filter`, in the order [`read_all`] numbers them.
pub fn filter_values(filter: &super::EventFilter) -> impl Iterator<Item = &str> {
    filter_slots(filter).into_iter().flatten()
}

fn filter_slots(filter: &super::EventFilter) -> [Option<&str>; 3] {
    [
        filter.aggregate_type.as_deref(),
        filter.aggregate_id.as_deref(),
        filter.event_type.as_deref(),
    ]
}
