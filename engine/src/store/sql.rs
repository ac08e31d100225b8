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

/// Where the backends' SQL differs: the statements that read the log by actor or
/// correlation id on PostgreSQL (see [`read_all`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// The events after `$1` matching `filter`, in position order, at most `$n` (the last
/// placeholder). Only the filters that are set appear in the statement, so that every
/// shape has a plan that is an index range scan however it is prepared: a generic plan of
/// `($2 IS NULL OR aggregate_type = $2)` cannot know which filters apply and scans the log.
/// Bind `after`, then the set filters in the order of [`filter_values`], then the limit.
///
/// A read by correlation id or actor (without an aggregate id) walks that filter's index
/// on the metadata (the migration `metadata_indexes`). SQLite takes the index for
/// `metadata->>'actor' = $k AND position > $1` as it is. PostgreSQL estimates a generic
/// plan's `metadata->>'actor' = $k` at one actor's share of the log and may walk the
/// primary key from the position instead, filtering as it goes: cheap while the actor is
/// common after the position, a walk to the end of the log when it is not. So there the
/// statement is a keyset range on the index, `(metadata->>'actor', position) > ($k, $1)
/// AND metadata->>'actor' <= $k ORDER BY metadata->>'actor', position`, whose order only
/// that index gives without sorting every match: the same events, always through it.
pub fn read_all(filter: &super::EventFilter, dialect: Dialect) -> String {
    read_from(filter, dialect, Direction::Forward)
}

/// The events before `$1` matching `filter`, newest first, at most `$n`: [`read_all`]
/// read back from a position, through the same indexes walked backwards. Bind as for
/// [`read_all`], with `before` first.
pub fn read_before(filter: &super::EventFilter, dialect: Dialect) -> String {
    read_from(filter, dialect, Direction::Back)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Back,
}

/// The columns a filter compares, in the order of [`filter_values`]. The metadata is
/// compared as `metadata->>'key'`, the expression its indexes are made on (see the
/// migration `metadata_indexes`): valid SQL on both backends, and SQLite uses an index on
/// an expression only when the statement writes it the same way.
const FILTER_COLUMNS: [&str; 5] = [
    "aggregate_type",
    "aggregate_id",
    "event_type",
    "metadata->>'actor'",
    "metadata->>'correlation_id'",
];
const AGGREGATE_ID: usize = 1;
const ACTOR: usize = 3;
const CORRELATION_ID: usize = 4;

/// The metadata filter whose index a read walks (an index into [`FILTER_COLUMNS`]): the
/// correlation id (one request's few events), else the actor; neither when an aggregate
/// id narrows the read to one aggregate's events (its own index, or the correlation id's,
/// serves it: the plain shape, whose plan the backend chooses).
fn driving(slots: &[Option<&str>; 5]) -> Option<usize> {
    if slots[AGGREGATE_ID].is_some() {
        None
    } else if slots[CORRELATION_ID].is_some() {
        Some(CORRELATION_ID)
    } else if slots[ACTOR].is_some() {
        Some(ACTOR)
    } else {
        None
    }
}

fn read_from(filter: &super::EventFilter, dialect: Dialect, direction: Direction) -> String {
    let slots = filter_slots(filter);
    let keyset = match dialect {
        Dialect::Postgres => driving(&slots),
        Dialect::Sqlite => None,
    };
    // SQLite keeps the plain shape, but its planner, weighing the statistics, may start
    // from another filter's index (one aggregate type's share of the log) and check the
    // metadata row by row: the other filters are written `+(column) = $n`, which no index
    // serves, so the metadata's index drives.
    let unindexed = match dialect {
        Dialect::Sqlite => driving(&slots),
        Dialect::Postgres => None,
    };
    let (compare, desc) = match direction {
        Direction::Forward => ('>', ""),
        Direction::Back => ('<', " DESC"),
    };
    let mut conditions = Vec::new();
    let mut order = format!("position{desc}");
    let mut placeholder = 1;
    for (slot, (column, value)) in FILTER_COLUMNS.iter().zip(slots).enumerate() {
        if value.is_none() {
            continue;
        }
        placeholder += 1;
        if keyset == Some(slot) {
            // `(key, position) > ($k, $1) AND key <= $k`: this key, after the position.
            let bound = if direction == Direction::Forward {
                "<="
            } else {
                ">="
            };
            conditions.insert(
                0,
                format!(
                    "({column}, position) {compare} (${placeholder}, $1) \
                     AND {column} {bound} ${placeholder}"
                ),
            );
            order = format!("{column}{desc}, position{desc}");
        } else if unindexed.is_some_and(|d| d != slot) {
            conditions.push(format!("+({column}) = ${placeholder}"));
        } else {
            conditions.push(format!("{column} = ${placeholder}"));
        }
    }
    if keyset.is_none() {
        conditions.insert(0, format!("position {compare} $1"));
    }
    format!(
        concat!(
            "SELECT ",
            event_columns!(),
            " FROM cg_events WHERE {} ORDER BY {} LIMIT ${}"
        ),
        conditions.join(" AND "),
        order,
        placeholder + 1
    )
}
/// The set filters of `filter`, in the order [`read_all`] numbers them.
pub fn filter_values(filter: &super::EventFilter) -> impl Iterator<Item = &str> {
    filter_slots(filter).into_iter().flatten()
}

fn filter_slots(filter: &super::EventFilter) -> [Option<&str>; 5] {
    [
        filter.aggregate_type.as_deref(),
        filter.aggregate_id.as_deref(),
        filter.event_type.as_deref(),
        filter.actor.as_deref(),
        filter.correlation_id.as_deref(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::EventFilter;

    fn by(
        actor: Option<&str>,
        correlation_id: Option<&str>,
        aggregate_id: Option<&str>,
    ) -> EventFilter {
        EventFilter {
            event_type: Some("cluster.created".into()),
            aggregate_id: aggregate_id.map(Into::into),
            actor: actor.map(Into::into),
            correlation_id: correlation_id.map(Into::into),
            ..EventFilter::default()
        }
    }

    fn conditions(sql: &str) -> &str {
        sql.split(" FROM cg_events WHERE ").nth(1).unwrap()
    }

    #[test]
    fn reads_without_metadata_filters_are_the_same_on_both_backends() {
        // Given a read by type and aggregate, when it is written for each backend,
        let filter = by(None, None, Some("cl_1"));
        for dialect in [Dialect::Postgres, Dialect::Sqlite] {
            // then it is the plain shape, forward and back.
            assert_eq!(
                conditions(&read_all(&filter, dialect)),
                "position > $1 AND aggregate_id = $2 AND event_type = $3 ORDER BY position LIMIT $4"
            );
            assert_eq!(
                conditions(&read_before(&filter, dialect)),
                "position < $1 AND aggregate_id = $2 AND event_type = $3 \
                 ORDER BY position DESC LIMIT $4"
            );
        }
    }

    #[test]
    fn postgres_reads_by_correlation_id_walk_its_index_as_a_keyset() {
        // Given a read by actor and correlation id,
        let filter = by(Some("ann"), Some("req-1"), None);
        // when written for PostgreSQL, the correlation id drives (the actor is a filter),
        let c = "metadata->>'correlation_id'";
        assert_eq!(
            conditions(&read_all(&filter, Dialect::Postgres)),
            format!(
                "({c}, position) > ($4, $1) AND {c} <= $4 AND event_type = $2 \
                 AND metadata->>'actor' = $3 ORDER BY {c}, position LIMIT $5"
            )
        );
        assert_eq!(
            conditions(&read_before(&filter, Dialect::Postgres)),
            format!(
                "({c}, position) < ($4, $1) AND {c} >= $4 AND event_type = $2 \
                 AND metadata->>'actor' = $3 ORDER BY {c} DESC, position DESC LIMIT $5"
            )
        );
        // and for SQLite it is the plain shape, bound the same way, the correlation id's
        // index the only one the other filters leave it.
        assert_eq!(
            conditions(&read_all(&filter, Dialect::Sqlite)),
            format!(
                "position > $1 AND +(event_type) = $2 AND +(metadata->>'actor') = $3 \
                 AND {c} = $4 ORDER BY position LIMIT $5"
            )
        );
    }

    #[test]
    fn the_metadata_drives_unless_an_aggregate_id_narrows_the_read() {
        let alone = read_all(&by(Some("ann"), None, None), Dialect::Postgres);
        assert!(
            conditions(&alone).starts_with("(metadata->>'actor', position) > ($3, $1)"),
            "{alone}"
        );
        for filter in [
            by(Some("ann"), None, Some("cl_1")),
            by(None, Some("req-1"), Some("cl_1")),
        ] {
            let with_id = read_before(&filter, Dialect::Postgres);
            assert!(
                conditions(&with_id).starts_with("position < $1 AND aggregate_id = $2"),
                "{with_id}"
            );
        }
    }
}
