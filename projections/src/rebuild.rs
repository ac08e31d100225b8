//! Rebuilding a projection without downtime.
//!
//! 1. [`begin`] records the rebuild in `rm_rebuilds` and creates empty shadow copies of the
//!    projection's tables (`<table>__shadow`), in one transaction.
//! 2. [`run`] fills them from position 0 in bulk ([`crate::bulk`]: every row folded in
//!    memory and written once, the shadow checkpoint `<name>#rebuild` moved with the
//!    write), creates their secondary indexes, then goes batch by batch up to the
//!    head, while the live tables keep serving and the live worker keeps applying new
//!    events to them.
//! 3. Once caught up, the swap runs in one transaction: it locks the live checkpoint (so no
//!    live batch runs meanwhile, in this process or another), applies the last events to the
//!    shadow, drops the live tables, renames the shadows into their place, and sets the live
//!    checkpoint to the shadow's. Readers see the old tables or the new ones, never a half-built
//!    model. A live worker that was behind then skips what the new tables already reflect.
//!
//! A crash at any point leaves either the old tables with a `running` rebuild (the next
//! process resumes it from the shadow checkpoint) or the swapped tables: nothing in between.

use std::sync::Arc;

use engine::store::{EventFilter, EventStore};
use sqlx::{AnyConnection, Row};

use crate::bulk::{self, FillPlan, Filled};
use crate::read_models::{index_all, search};
use crate::runtime::checkpoint::{delete_checkpoint, lock_checkpoint, now, save_checkpoint};
use crate::runtime::{error_chain, is_poison, load_checkpoint, Applier};
use crate::runtime::{RebuildState, RebuildStatus};
use crate::{Projection, ProjectionError, ReadDb, Target};

/// Starts a rebuild of `projection`, or finds the one already running (`Ok(true)`).
pub async fn begin(db: &ReadDb, projection: &dyn Projection) -> Result<bool, ProjectionError> {
    let name = projection.name();
    let mut tx = db.begin().await?;
    if still_running(&mut tx, name, db.is_sqlite()).await? {
        return Ok(true);
    }
    let generation = uuid::Uuid::now_v7().simple().to_string()[20..].to_owned();
    for table in projection.tables() {
        table.drop(&mut tx, &Target::Shadow).await?;
        table.create_table(&mut tx, &Target::Shadow).await?;
    }
    let shadow = Target::Shadow.checkpoint(name);
    delete_checkpoint(&mut tx, &shadow).await?;
    sqlx::query("DELETE FROM rm_dead_letters WHERE projection = $1")
        .bind(&shadow)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO rm_rebuilds (projection, status, generation, position, started_at) \
         VALUES ($1, 'running', $2, 0, $3) ON CONFLICT (projection) DO UPDATE SET \
         status = 'running', generation = excluded.generation, position = 0, \
         started_at = excluded.started_at, finished_at = NULL, error = NULL",
    )
    .bind(name)
    .bind(&generation)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(false)
}

/// Progress of a running rebuild: the shadow's position and the log head.
pub type Progress = dyn Fn(i64, i64) + Send + Sync;

/// Fills the shadow tables of a begun rebuild and swaps them in; returns the position the
/// live tables reflect after the swap. On failure the rebuild is marked `failed`.
pub async fn run(
    store: Arc<dyn EventStore>,
    applier: &Applier,
    progress: &Progress,
) -> Result<i64, ProjectionError> {
    let result = fill_and_swap(store, applier, progress).await;
    if let Err(error) = &result {
        let text = error_chain(error);
        tracing::error!(projection = applier.projection.name(), error = %text, "rebuild failed");
        sqlx::query(
            "UPDATE rm_rebuilds SET status = 'failed', error = $1, finished_at = $2 \
             WHERE projection = $3 AND status = 'running'",
        )
        .bind(&text)
        .bind(now())
        .bind(applier.projection.name())
        .execute(applier.db.pool())
        .await?;
    }
    result
}

async fn fill_and_swap(
    store: Arc<dyn EventStore>,
    applier: &Applier,
    progress: &Progress,
) -> Result<i64, ProjectionError> {
    let name = applier.projection.name();
    let batch = applier.options.rebuild_batch_size;
    let quiet = |_: String| {};
    let mut position = match bulk_fill(Arc::clone(&store), applier, progress).await {
        Ok(position) => position,
        Err(error) => return settle_failure(applier, error).await,
    };
    let store = &*store;
    loop {
        let (read, next) = match applier.step(store, position, batch, &quiet).await {
            Ok(step) => step,
            Err(error) => return settle_failure(applier, error).await,
        };
        position = next;
        progress(position, store.head().await?);
        if (read as i64) < batch {
            match swap(store, applier).await {
                Ok(swapped) => {
                    progress(swapped, swapped);
                    tracing::info!(projection = name, position = swapped, "rebuild swapped in");
                    return Ok(swapped);
                }
                // An event the projection refuses arrived meanwhile: let the applier
                // retry or park it, then try the swap again.
                Err(error) if is_poison(&error) => continue,
                Err(error) => return Err(error),
            }
        }
    }
}

/// Fills the shadow in bulk from its checkpoint (see [`crate::bulk`]); returns the
/// checkpoint the batch path goes on from. An event the projection cannot fold, or another
/// process filling the same shadow, hands over to the batch path, which retries and parks
/// such an event and serialises with other writers on the checkpoint.
async fn bulk_fill(
    store: Arc<dyn EventStore>,
    applier: &Applier,
    progress: &Progress,
) -> Result<i64, ProjectionError> {
    let name = applier.projection.name();
    let checkpoint = Target::Shadow.checkpoint(name);
    let plan = FillPlan {
        target: Target::Shadow,
        from: load_checkpoint(&applier.db, &checkpoint).await?,
        to: None,
        checkpoints: true,
        hold: bulk::HOLD,
    };
    let head = store.head().await?;
    let report = |position: i64| progress(position, head.max(position));
    let projections = [Arc::clone(&applier.projection)];
    let filled = bulk::fill(store, &applier.db, &projections, &plan, &report).await;
    if !matches!(&filled, Err(error) if !is_poison(error)) {
        index_shadow(applier).await?;
    }
    match filled {
        Ok(Filled::Done(position)) => Ok(position),
        Ok(Filled::Contended) => {
            tracing::info!(
                projection = name,
                "another process fills this shadow too; going on batch by batch"
            );
            load_checkpoint(&applier.db, &checkpoint).await
        }
        Err(error) if is_poison(&error) => {
            tracing::warn!(projection = name, error = %error_chain(&error), "an event does not fold; going on batch by batch");
            load_checkpoint(&applier.db, &checkpoint).await
        }
        Err(error) => Err(error),
    }
}

/// Creates the shadow tables' secondary indexes (left out while the bulk fill loads them)
/// unless they exist, named with the rebuild's generation.
async fn index_shadow(applier: &Applier) -> Result<(), ProjectionError> {
    let db = &applier.db;
    let projection = &*applier.projection;
    let generation: String =
        sqlx::query_scalar("SELECT generation FROM rm_rebuilds WHERE projection = $1")
            .bind(projection.name())
            .fetch_one(db.pool())
            .await?;
    let tables: Vec<_> = projection.tables().iter().collect();
    index_all(db, &tables, &Target::Shadow, &generation).await
}

/// A fill that failed: the error, unless another process swapped the rebuild in meanwhile
/// (its shadow tables are the live ones now: their position).
async fn settle_failure(applier: &Applier, error: ProjectionError) -> Result<i64, ProjectionError> {
    let name = applier.projection.name();
    let mut conn = applier.db.pool().acquire().await?;
    if still_running(&mut conn, name, true).await? {
        return Err(error);
    }
    load_checkpoint(&applier.db, name).await
}

/// Catches the shadow up and swaps it in, in one transaction.
async fn swap(store: &dyn EventStore, applier: &Applier) -> Result<i64, ProjectionError> {
    let db = &applier.db;
    let projection = &*applier.projection;
    let name = projection.name();
    let shadow = Target::Shadow.checkpoint(name);
    let mut tx = db.begin().await?;
    let live = lock_checkpoint(&mut tx, name, db.is_sqlite()).await?;
    if !still_running(&mut tx, name, db.is_sqlite()).await? {
        // Another process finished (or abandoned) this rebuild meanwhile.
        return Ok(live);
    }
    let mut position = lock_checkpoint(&mut tx, &shadow, db.is_sqlite()).await?;
    loop {
        let events = store
            .read_all(
                position,
                applier.options.rebuild_batch_size,
                &EventFilter::default(),
            )
            .await?;
        let Some(last) = events.last().map(|e| e.position) else {
            break;
        };
        projection.apply(&mut tx, &events, &Target::Shadow).await?;
        position = last;
    }
    for table in projection.tables() {
        table.drop(&mut tx, &Target::Live).await?;
        let rename = format!(
            "ALTER TABLE {} RENAME TO {}",
            Target::Shadow.table(table.name),
            table.name
        );
        sqlx::query(&rename).execute(&mut *tx).await?;
        if db.is_sqlite() {
            search::rename_shadow(&mut tx, table).await?;
        }
    }
    save_checkpoint(&mut tx, name, position).await?;
    delete_checkpoint(&mut tx, &shadow).await?;
    move_dead_letters(&mut tx, name, &shadow).await?;
    sqlx::query(
        "UPDATE rm_rebuilds SET status = 'completed', position = $1, finished_at = $2 \
         WHERE projection = $3",
    )
    .bind(position)
    .bind(now())
    .bind(name)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(position)
}

async fn still_running(
    conn: &mut AnyConnection,
    name: &str,
    sqlite: bool,
) -> Result<bool, ProjectionError> {
    let lock = if sqlite { "" } else { " FOR UPDATE" };
    let status: Option<String> = sqlx::query_scalar(&format!(
        "SELECT status FROM rm_rebuilds WHERE projection = $1{lock}"
    ))
    .bind(name)
    .fetch_optional(conn)
    .await?;
    let state = status.as_deref().map(str::parse).transpose()?;
    Ok(state == Some(RebuildState::Running))
}

/// The live model's dead letters are replaced by the ones the rebuild parked.
async fn move_dead_letters(
    conn: &mut AnyConnection,
    name: &str,
    shadow: &str,
) -> Result<(), ProjectionError> {
    sqlx::query("DELETE FROM rm_dead_letters WHERE projection = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE rm_dead_letters SET projection = $1 WHERE projection = $2")
        .bind(name)
        .bind(shadow)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The rebuild of `projection` as recorded (running ones with the shadow's position).
pub async fn status(
    db: &ReadDb,
    projection: &str,
) -> Result<Option<RebuildStatus>, ProjectionError> {
    let row = sqlx::query(
        "SELECT status, position, started_at, finished_at, error FROM rm_rebuilds \
         WHERE projection = $1",
    )
    .bind(projection)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let status: RebuildState = row.try_get::<String, _>("status")?.parse()?;
    let position = if status == RebuildState::Running {
        load_checkpoint(db, &Target::Shadow.checkpoint(projection)).await?
    } else {
        row.try_get("position")?
    };
    Ok(Some(RebuildStatus {
        status,
        position,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        error: row.try_get("error")?,
    }))
}

/// Names of the projections whose rebuild is running (to resume at start).
pub async fn running(db: &ReadDb) -> Result<Vec<String>, ProjectionError> {
    Ok(
        sqlx::query_scalar("SELECT projection FROM rm_rebuilds WHERE status = 'running'")
            .fetch_all(db.pool())
            .await?,
    )
}
