//! Dead letters: events a projection could not apply after its retries. Parking one
//! advances the projection's checkpoint past it in the same transaction, so the projection
//! moves on; the event stays listed until a retry applies it.

use chrono::Utc;
use engine::store::RecordedEvent;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::{ProjectionError, ReadDb};

/// A parked event.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeadLetter {
    pub id: String,
    pub projection: String,
    pub position: i64,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub error: String,
    pub attempts: i64,
    pub parked_at: String,
    pub retried_at: Option<String>,
}

const COLUMNS: &str = "id, projection, position, event_type, aggregate_type, aggregate_id, \
                       error, attempts, parked_at, retried_at";

fn now() -> String {
    engine::store::format_time(Utc::now())
}

fn row(r: &AnyRow) -> Result<DeadLetter, ProjectionError> {
    Ok(DeadLetter {
        id: r.try_get("id")?,
        projection: r.try_get("projection")?,
        position: r.try_get("position")?,
        event_type: r.try_get("event_type")?,
        aggregate_type: r.try_get("aggregate_type")?,
        aggregate_id: r.try_get("aggregate_id")?,
        error: r.try_get("error")?,
        attempts: r.try_get("attempts")?,
        parked_at: r.try_get("parked_at")?,
        retried_at: r.try_get("retried_at")?,
    })
}

/// Parks `event` for `projection` (inside the caller's transaction).
pub async fn park(
    conn: &mut AnyConnection,
    projection: &str,
    event: &RecordedEvent,
    error: &str,
    attempts: u32,
) -> Result<(), ProjectionError> {
    sqlx::query(
        "INSERT INTO rm_dead_letters (id, projection, position, event_type, aggregate_type, \
         aggregate_id, error, attempts, parked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (projection, position) DO UPDATE SET error = excluded.error, \
         attempts = excluded.attempts",
    )
    .bind(format!("dl_{}", uuid::Uuid::now_v7().simple()))
    .bind(projection)
    .bind(event.position)
    .bind(&event.event_type)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(error)
    .bind(i64::from(attempts))
    .bind(now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Parked events, oldest first, of one projection or all (in the order of the
/// `UNIQUE (projection, position)` index, which serves both shapes).
pub async fn list(
    db: &ReadDb,
    projection: Option<&str>,
) -> Result<Vec<DeadLetter>, ProjectionError> {
    let filter = if projection.is_some() {
        " WHERE projection = $1"
    } else {
        ""
    };
    let sql =
        format!("SELECT {COLUMNS} FROM rm_dead_letters{filter} ORDER BY projection, position");
    let mut query = sqlx::query(&sql);
    if let Some(projection) = projection {
        query = query.bind(projection);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(row).collect()
}

/// One parked event.
pub async fn get(db: &ReadDb, id: &str) -> Result<Option<DeadLetter>, ProjectionError> {
    let sql = format!("SELECT {COLUMNS} FROM rm_dead_letters WHERE id = $1");
    let found = sqlx::query(&sql).bind(id).fetch_optional(db.pool()).await?;
    found.as_ref().map(row).transpose()
}

/// Removes a parked event (its retry succeeded; inside the caller's transaction).
pub async fn resolve(conn: &mut AnyConnection, id: &str) -> Result<(), ProjectionError> {
    sqlx::query("DELETE FROM rm_dead_letters WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed retry.
pub async fn retry_failed(db: &ReadDb, id: &str, error: &str) -> Result<(), ProjectionError> {
    let _turn = db.write_turn().await;
    sqlx::query(
        "UPDATE rm_dead_letters SET error = $1, attempts = attempts + 1, retried_at = $2 \
         WHERE id = $3",
    )
    .bind(error)
    .bind(now())
    .bind(id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// How many events `projection` has parked.
pub async fn count(db: &ReadDb, projection: &str) -> Result<i64, ProjectionError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM rm_dead_letters WHERE projection = $1")
        .bind(projection)
        .fetch_one(db.pool())
        .await?;
    Ok(n)
}
