//! Batch folding and writing of read-model rows. Each row keeps the folded aggregate
//! (`state`) and the position of the last event it reflects (`last_position`): a batch
//! loads the rows it touches in one query, folds its events in memory (skipping what a
//! row already reflects, so replays are harmless), and writes each touched row once.

use std::collections::HashMap;

use cqrs_es::Aggregate;
use engine::fold::{Loaded, ReadForm};
use engine::store::RecordedEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::tables::TableDef;
use crate::{ProjectionError, Target};

/// Rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits).
const CHUNK: usize = 200;

/// What a row keeps: a folded aggregate, stored as JSON in its read form (what only
/// decisions need dropped, [`ReadForm`]).
pub trait RowState: Aggregate + Serialize + DeserializeOwned + ReadForm {}

impl<A: Aggregate + Serialize + DeserializeOwned + ReadForm> RowState for A {}

/// A row's folded aggregate after a batch.
pub struct Folded<A: Aggregate> {
    pub id: String,
    pub loaded: Loaded<A>,
    pub position: i64,
}

impl<A: RowState> Folded<A> {
    /// The row `id` at `position`, its fold in the read form every row is written in.
    pub fn new(id: String, mut loaded: Loaded<A>, position: i64) -> Self {
        loaded.state.to_read_form();
        Self {
            id,
            loaded,
            position,
        }
    }
}

/// Renders a folded aggregate as its row (values in the table's column order).
pub type Render<A> = fn(&Folded<A>) -> Result<Vec<Value>, ProjectionError>;

/// A value bound into a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Int(i64),
}

impl Value {
    /// Bytes of text (8 for an integer).
    pub fn size(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Int(_) => 8,
        }
    }
}

/// Applies one event to a row's folded aggregate.
pub type Step<'a, A, E> = dyn FnMut(&mut Loaded<A>, &E) -> Result<(), ProjectionError> + Send + 'a;

/// Folds `events` (all of one aggregate type) onto the rows of `table`, each event applied
/// by `step` (which may watch the row change); returns the rows that changed, in order of
/// first appearance.
pub async fn fold_batch_with<A>(
    conn: &mut AnyConnection,
    table: &str,
    events: &[&RecordedEvent],
    step: &mut Step<'_, A, RecordedEvent>,
) -> Result<Vec<Folded<A>>, ProjectionError>
where
    A: RowState,
{
    let mut order: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for event in events {
        if seen.insert(event.aggregate_id.as_str()) {
            order.push(&event.aggregate_id);
        }
    }
    let mut rows = load_rows::<A>(conn, table, &order).await?;
    let mut changed: HashMap<&str, bool> = HashMap::new();
    for event in events {
        let id = event.aggregate_id.as_str();
        let (loaded, last) = match rows.remove(id) {
            Some(row) => row,
            None => (Loaded::<A>::fold(&[])?, 0),
        };
        let row = if event.position > last {
            let mut loaded = loaded;
            step(&mut loaded, event)?;
            changed.insert(id, true);
            (loaded, event.position)
        } else {
            (loaded, last)
        };
        rows.insert(id.to_owned(), row);
    }
    Ok(order
        .into_iter()
        .filter(|id| changed.contains_key(id))
        .filter_map(|id| {
            rows.remove(id)
                .map(|(loaded, position)| Folded::new(id.to_owned(), loaded, position))
        })
        .collect())
}

pub(crate) async fn load_rows<A>(
    conn: &mut AnyConnection,
    table: &str,
    ids: &[&str],
) -> Result<HashMap<String, (Loaded<A>, i64)>, ProjectionError>
where
    A: RowState,
{
    let mut rows = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let placeholders = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql =
            format!("SELECT id, state, last_position FROM {table} WHERE id IN ({placeholders})");
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let state: String = row.try_get("state")?;
            let loaded: Loaded<A> = serde_json::from_str(&state)?;
            rows.insert(row.try_get("id")?, (loaded, row.try_get("last_position")?));
        }
    }
    Ok(rows)
}

/// The conflict clause of an insert into `cur` whose first column is the key: a row is
/// replaced only by one reflecting a later position (`last_position`).
pub(crate) fn newer_wins(columns: &[&str]) -> String {
    let updates = columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "ON CONFLICT ({}) DO UPDATE SET {updates} WHERE cur.last_position < excluded.last_position",
        columns[0]
    )
}

/// Inserts or updates `rows` (values in `columns` order, the first column the key, the
/// last `last_position`); a row already at a later position is left alone.
pub async fn upsert(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), ProjectionError> {
    insert_rows(conn, table, columns, rows, &newer_wins(columns)).await
}

/// Inserts `rows` (values in `columns` order) into `table` (aliased `cur`), a conflict
/// resolved by `on_conflict`, in multi-row statements.
pub async fn insert_rows(
    conn: &mut AnyConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Value>>,
    on_conflict: &str,
) -> Result<(), ProjectionError> {
    let width = columns.len();
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Value>> = rows.by_ref().take(CHUNK).collect();
        let tuples = (0..chunk.len())
            .map(|r| {
                let cells = (1..=width)
                    .map(|c| format!("${}", r * width + c))
                    .collect::<Vec<_>>();
                format!("({})", cells.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO {table} AS cur ({}) VALUES {tuples} {on_conflict}",
            columns.join(", "),
        );
        let mut query = sqlx::query(&sql);
        for value in chunk.into_iter().flatten() {
            query = match value {
                Value::Text(text) => query.bind(text),
                Value::Int(n) => query.bind(n),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Folds the events of `aggregate_type` onto the rows of `def` in `target` and writes each
/// changed row once, its values rendered by `row` (in `def`'s column order).
pub async fn project<A>(
    conn: &mut AnyConnection,
    def: &TableDef,
    target: &Target,
    events: &[RecordedEvent],
    aggregate_type: &str,
    row: Render<A>,
) -> Result<(), ProjectionError>
where
    A: RowState,
{
    let mut apply =
        |loaded: &mut Loaded<A>, event: &RecordedEvent| -> Result<(), ProjectionError> {
            loaded.apply_recorded(event)?;
            Ok(())
        };
    project_with(conn, def, target, events, aggregate_type, row, &mut apply).await
}

/// [`project`], each event applied by `step` (which may watch the row change: the
/// billing totals and list counts do).
pub async fn project_with<A>(
    conn: &mut AnyConnection,
    def: &TableDef,
    target: &Target,
    events: &[RecordedEvent],
    aggregate_type: &str,
    row: Render<A>,
    step: &mut Step<'_, A, RecordedEvent>,
) -> Result<(), ProjectionError>
where
    A: RowState,
{
    let mine: Vec<&RecordedEvent> = events
        .iter()
        .filter(|e| e.aggregate_type == aggregate_type)
        .collect();
    if mine.is_empty() {
        return Ok(());
    }
    let table = target.table(def.name);
    let folded = fold_batch_with::<A>(conn, &table, &mine, step).await?;
    let rows = folded.iter().map(row).collect::<Result<Vec<_>, _>>()?;
    upsert(conn, &table, &def.column_names(), rows).await
}

/// A stored `state` (a [`Loaded<A>`] as JSON) re-encoded as this version writes it (see
/// [`crate::Projection::canonical_state`]).
pub fn canonical_state<A>(state: &str) -> Result<String, ProjectionError>
where
    A: RowState,
{
    let mut loaded: Loaded<A> = serde_json::from_str(state)?;
    loaded.state.to_read_form();
    Ok(serde_json::to_string(&loaded)?)
}

/// A value's text, or empty.
pub fn text(value: Option<&impl ToString>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

/// RFC 3339 with microseconds (sorts chronologically as text).
pub fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(engine::store::format_time).unwrap_or_default()
}
