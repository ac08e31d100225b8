//! Materialising the read models at a past position into a scratch schema
//! (`clustergenie replay --to <position|time> --into <schema>`), and comparing a scratch
//! schema with the live models (`clustergenie diff <schema>`).
//!
//! On PostgreSQL the scratch schema is a schema of the same database; on SQLite it is a
//! database file next to the main one (`<data dir>/<schema>.db`), attached under the
//! schema's name. Either way the same projection code writes it, through
//! [`Target::Schema`].

use std::collections::BTreeMap;
use std::sync::Arc;

use engine::store::EventStore;
use serde::Serialize;
use sqlx::Row;

use crate::bulk::{self, FillPlan, Filled};
use crate::read_models::{index_all, TableDef};
use crate::{Projection, ProjectionError, ReadDb, SchemaName, Target};

/// Builds every projection's tables in `schema` from the log up to position `to`
/// (replacing whatever the schema held). `progress` hears the position reached.
/// Returns the last position applied.
pub async fn replay_into(
    store: Arc<dyn EventStore>,
    db: &ReadDb,
    projections: &[Arc<dyn Projection>],
    to: i64,
    schema: &SchemaName,
    progress: &(dyn Fn(i64) + Send + Sync),
) -> Result<i64, ProjectionError> {
    let started = std::time::Instant::now();
    let scratch = db.fresh_schema(schema).await?;
    let target = Target::Schema(schema.clone());
    let mut tx = scratch.begin().await?;
    for projection in projections {
        for table in projection.tables() {
            table.create_table(&mut tx, &target).await?;
        }
    }
    let info = target.table("replay_info");
    sqlx::query(&format!(
        "CREATE TABLE {info} (position BIGINT NOT NULL, replayed_at TEXT NOT NULL)"
    ))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let prepared_ms = started.elapsed().as_millis() as u64;
    let plan = FillPlan {
        target,
        from: 0,
        to: Some(to),
        checkpoints: false,
        hold: bulk::HOLD,
    };
    let position = match bulk::fill(store, &scratch, projections, &plan, progress).await? {
        Filled::Done(position) => position,
        // Only a fill that keeps checkpoints can be contended.
        Filled::Contended => {
            return Err(ProjectionError::Invalid(format!(
                "another writer filled the scratch schema {:?} meanwhile",
                schema.as_str()
            )))
        }
    };
    let filled_ms = started.elapsed().as_millis() as u64;
    // Indexed once the rows are in (faster than keeping the indexes up while filling).
    let tables: Vec<_> = projections.iter().flat_map(|p| p.tables()).collect();
    index_all(&scratch, &tables, &plan.target, "r").await?;
    sqlx::query(&format!(
        "INSERT INTO {info} (position, replayed_at) VALUES ($1, $2)"
    ))
    .bind(position)
    .bind(engine::store::format_time(chrono::Utc::now()))
    .execute(scratch.pool())
    .await?;
    let done_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(
        prepared_ms,
        filled_ms,
        done_ms,
        "replayed into a scratch schema"
    );
    Ok(position)
}

/// How one table differs between the live models and a scratch schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableDiff {
    pub table: String,
    pub rows_live: usize,
    pub rows_scratch: usize,
    /// Keys only the live table has.
    pub only_live: Vec<String>,
    /// Keys only the scratch table has.
    pub only_scratch: Vec<String>,
    /// Keys in both whose rows differ, with the differing columns.
    pub changed: Vec<(String, Vec<String>)>,
}

impl TableDiff {
    /// True when both hold the same rows.
    pub fn is_empty(&self) -> bool {
        self.only_live.is_empty() && self.only_scratch.is_empty() && self.changed.is_empty()
    }
}

/// The result of `clustergenie diff`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DiffReport {
    /// The position the scratch schema was replayed to.
    pub scratch_position: Option<i64>,
    pub tables: Vec<TableDiff>,
}

impl DiffReport {
    /// True when every table is identical.
    pub fn is_identical(&self) -> bool {
        self.tables.iter().all(TableDiff::is_empty)
    }
}

/// Compares every projection's tables in `schema` with the live ones, row for row.
pub async fn diff(
    db: &ReadDb,
    projections: &[Arc<dyn Projection>],
    schema: &SchemaName,
) -> Result<DiffReport, ProjectionError> {
    let scratch = db.existing_schema(schema).await?;
    let target = Target::Schema(schema.clone());
    let scratch_position = sqlx::query_scalar(&format!(
        "SELECT MAX(position) FROM {}",
        target.table("replay_info")
    ))
    .fetch_one(scratch.pool())
    .await
    .ok();
    let mut tables = Vec::new();
    for projection in projections {
        for table in projection.tables() {
            let live = canonical(
                &**projection,
                table,
                rows(&scratch, table, &Target::Live).await?,
            )?;
            let copy = canonical(&**projection, table, rows(&scratch, table, &target).await?)?;
            tables.push(compare(table, &live, &copy));
        }
    }
    Ok(DiffReport {
        scratch_position,
        tables,
    })
}

type Rows = BTreeMap<String, Vec<Option<String>>>;

/// Every row of `table` in `target`, keyed by primary key, each column as text.
pub async fn rows(db: &ReadDb, table: &TableDef, target: &Target) -> Result<Rows, ProjectionError> {
    let columns = table.column_names();
    let select = columns
        .iter()
        .map(|c| format!("CAST({c} AS TEXT) AS {c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT {select} FROM {} ORDER BY {}",
        target.table(table.name),
        columns[0]
    );
    let mut rows = BTreeMap::new();
    for row in sqlx::query(&sql).fetch_all(db.pool()).await? {
        let values = (0..columns.len())
            .map(|i| row.try_get::<Option<String>, _>(i))
            .collect::<Result<Vec<_>, _>>()?;
        rows.insert(values[0].clone().unwrap_or_default(), values);
    }
    Ok(rows)
}

/// `rows` with their `state` column as this version writes it, so that a row an earlier
/// version wrote compares equal to a replay's when both hold the same fold.
fn canonical(
    projection: &dyn Projection,
    table: &TableDef,
    mut rows: Rows,
) -> Result<Rows, ProjectionError> {
    let Some(column) = table.column_names().iter().position(|c| *c == "state") else {
        return Ok(rows);
    };
    for values in rows.values_mut() {
        if let Some(state) = values[column].as_mut() {
            *state = projection.canonical_state(table, state)?;
        }
    }
    Ok(rows)
}

fn compare(table: &TableDef, live: &Rows, copy: &Rows) -> TableDiff {
    let columns = table.column_names();
    let mut diff = TableDiff {
        table: table.name.to_owned(),
        rows_live: live.len(),
        rows_scratch: copy.len(),
        ..TableDiff::default()
    };
    for (key, row) in live {
        match copy.get(key) {
            None => diff.only_live.push(key.clone()),
            Some(other) if other != row => {
                let differing = columns
                    .iter()
                    .zip(row.iter().zip(other))
                    .filter(|(_, (a, b))| a != b)
                    .map(|(c, _)| (*c).to_owned())
                    .collect();
                diff.changed.push((key.clone(), differing));
            }
            Some(_) => {}
        }
    }
    diff.only_scratch = copy
        .keys()
        .filter(|k| !live.contains_key(*k))
        .cloned()
        .collect();
    diff
}
