//! Checkpoints: one row per projection and target in `rm_checkpoints`. A batch locks its
//! checkpoint row first, so that every writer of one target (this process's worker,
//! another process's, a rebuild's swap) is serialised by it, and skips the events the
//! stored checkpoint already covers.

use chrono::Utc;
use engine::store::RecordedEvent;
use sqlx::AnyConnection;

use crate::{Projection, ProjectionError, ReadDb, Target};

/// Creates checkpoint `$1` at 0 (updated at `$2`) unless it exists.
pub(crate) const ENSURE_CHECKPOINT: &str =
    "INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ($1, 0, $2) \
     ON CONFLICT (projection) DO NOTHING";

/// Reads checkpoint `$1`, locking its row until the end of the transaction (PostgreSQL).
pub(crate) const LOCK_CHECKPOINT: &str =
    "SELECT position FROM rm_checkpoints WHERE projection = $1 FOR UPDATE";

/// Sets checkpoint `$1` to `$2` (updated at `$3`).
pub(crate) const SAVE_CHECKPOINT: &str =
    "INSERT INTO rm_checkpoints (projection, position, updated_at) VALUES ($1, $2, $3) \
     ON CONFLICT (projection) DO UPDATE SET position = excluded.position, \
     updated_at = excluded.updated_at";

/// The stored checkpoint named `name` (0 if none).
pub async fn load_checkpoint(db: &ReadDb, name: &str) -> Result<i64, ProjectionError> {
    let position: Option<i64> =
        sqlx::query_scalar("SELECT position FROM rm_checkpoints WHERE projection = $1")
            .bind(name)
            .fetch_optional(db.pool())
            .await?;
    Ok(position.unwrap_or(0))
}

/// Locks checkpoint `name` until the end of the transaction and returns it. On SQLite the
/// transaction's `BEGIN IMMEDIATE` already holds the database's write lock.
pub async fn lock_checkpoint(
    conn: &mut AnyConnection,
    name: &str,
    sqlite: bool,
) -> Result<i64, ProjectionError> {
    sqlx::query(ENSURE_CHECKPOINT)
        .bind(name)
        .bind(now())
        .execute(&mut *conn)
        .await?;
    let sql = if sqlite {
        "SELECT position FROM rm_checkpoints WHERE projection = $1"
    } else {
        LOCK_CHECKPOINT
    };
    Ok(sqlx::query_scalar(sql).bind(name).fetch_one(conn).await?)
}

/// Creates the checkpoints `names` at 0 where they do not exist yet.
pub async fn ensure_checkpoints(db: &ReadDb, names: &[&str]) -> Result<(), ProjectionError> {
    for name in names {
        sqlx::query(ENSURE_CHECKPOINT)
            .bind(*name)
            .bind(now())
            .execute(db.pool())
            .await?;
    }
    Ok(())
}

/// Locks the checkpoints `names` until the end of the transaction (in name order, as every
/// writer locks them, so two never wait on each other) and returns them, in the order of
/// `names`; a missing checkpoint reads as 0. One statement for all of them.
pub async fn lock_checkpoints(
    conn: &mut AnyConnection,
    names: &[&str],
    sqlite: bool,
) -> Result<Vec<i64>, ProjectionError> {
    let placeholders: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT projection, position FROM rm_checkpoints WHERE projection IN ({}) \
         ORDER BY projection{}",
        placeholders.join(", "),
        if sqlite { "" } else { " FOR UPDATE" }
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for name in names {
        query = query.bind(*name);
    }
    let stored = query.fetch_all(conn).await?;
    Ok(names
        .iter()
        .map(|name| {
            stored
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, position)| *position)
        })
        .collect())
}

/// Sets checkpoint `name` (inside the caller's transaction).
pub async fn save_checkpoint(
    conn: &mut AnyConnection,
    name: &str,
    position: i64,
) -> Result<(), ProjectionError> {
    sqlx::query(SAVE_CHECKPOINT)
        .bind(name)
        .bind(position)
        .bind(now())
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes checkpoint `name` (inside the caller's transaction).
pub async fn delete_checkpoint(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<(), ProjectionError> {
    sqlx::query("DELETE FROM rm_checkpoints WHERE projection = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(())
}

/// Applies `events` (in position order) to `target` and moves its checkpoint past them, in
/// one transaction. Events at or below the stored checkpoint are skipped (another writer
/// got there first). Returns the checkpoint after the batch.
pub async fn apply_checkpointed(
    db: &ReadDb,
    projection: &dyn Projection,
    target: &Target,
    events: &[RecordedEvent],
) -> Result<i64, ProjectionError> {
    let name = target.checkpoint(projection.name());
    let mut tx = db.begin().await?;
    let stored = lock_checkpoint(&mut tx, &name, db.is_sqlite()).await?;
    let fresh = &events[events.partition_point(|e| e.position <= stored)..];
    let Some(last) = fresh.last().map(|e| e.position) else {
        return Ok(stored);
    };
    projection.apply(&mut tx, fresh, target).await?;
    save_checkpoint(&mut tx, &name, last).await?;
    tx.commit().await?;
    Ok(last)
}

/// The current time as the read models store it.
pub fn now() -> String {
    engine::store::format_time(Utc::now())
}
