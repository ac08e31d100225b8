//! Loading and storing the folded aggregate kept in a read-model row.

use cqrs_es::Aggregate;
use engine::commands::Loaded;
use engine::store::RecordedEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::ProjectionError;

/// The fold stored in `table` for `id`, or a fresh one; None if the row already reflects
/// `event` (a replay).
pub async fn fold_event<A>(
    conn: &mut AnyConnection,
    table: &str,
    event: &RecordedEvent,
) -> Result<Option<Loaded<A>>, ProjectionError>
where
    A: Aggregate + Serialize + DeserializeOwned,
{
    let sql = format!("SELECT state, last_position FROM {table} WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(&event.aggregate_id)
        .fetch_optional(&mut *conn)
        .await?;
    let mut loaded = match row {
        Some(row) => {
            let last: i64 = row.try_get("last_position")?;
            if last >= event.position {
                return Ok(None);
            }
            let state: String = row.try_get("state")?;
            serde_json::from_str::<Loaded<A>>(&state)?
        }
        None => Loaded::<A>::fold(&[])?,
    };
    loaded.apply_recorded(event)?;
    Ok(Some(loaded))
}

/// RFC 3339 with microseconds (sorts chronologically as text).
pub fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map(engine::store::format_time).unwrap_or_default()
}
