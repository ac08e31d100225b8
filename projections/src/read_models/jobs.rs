//! `rm_jobs`: one row per job.

use engine::domain::Job;
use engine::fold::Loaded;
use sqlx::Row;

use super::list_counts::{key, ALL};
use super::row_model::RowModel;
use super::rows::{text, time, Folded, Value};
use super::tables::{TableDef, JOBS, JOB_COUNTS};
use crate::{ProjectionError, ReadDb};

const TABLES: [TableDef; 2] = [JOBS, JOB_COUNTS];

/// Builds `rm_jobs` and its list's counts.
pub fn projection() -> RowModel<Job> {
    RowModel::counted("jobs", &TABLES, "job", render, counted_in)
}

/// A job is in the list, and in those of its status, its type and its cluster (the jobs
/// of a droplet are few: that list counts them).
fn counted_in(j: &Loaded<Job>) -> Vec<String> {
    let job = &j.state;
    if j.version == 0 {
        return Vec::new();
    }
    vec![
        ALL.to_owned(),
        key("status", job.status.as_str()),
        key("job_type", &text(job.job_type.as_ref())),
        key("cluster_id", &text(job.cluster_id.as_ref())),
    ]
}

fn render(f: &Folded<Job>) -> Result<Vec<Value>, ProjectionError> {
    let job = &f.loaded.state;
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(text(job.job_type.as_ref())),
        Value::Text(text(job.cluster_id.as_ref())),
        Value::Text(job.status.as_str().to_owned()),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
        Value::Text(text(job.droplet_id.as_ref())),
    ])
}

/// The `rm_backfills` entry of the `droplet_id` column (see its migration).
const DROPLET_BACKFILL: &str = "rm_jobs.droplet_id";

/// Rows read per backfill step.
const BACKFILL_CHUNK: i64 = 500;

/// Fills `droplet_id` of the rows written before the column existed, from their `state`,
/// while `rm_backfills` asks for it; then clears the request. A job's droplet never
/// changes, so this may run beside the live projection (or in several processes at once):
/// a row the projection wrote since has the value already and is left alone.
pub async fn backfill_droplet_ids(db: &ReadDb) -> Result<u64, ProjectionError> {
    let pending: Option<String> =
        sqlx::query_scalar("SELECT name FROM rm_backfills WHERE name = $1")
            .bind(DROPLET_BACKFILL)
            .fetch_optional(db.pool())
            .await?;
    if pending.is_none() {
        return Ok(0);
    }
    let (mut after, mut filled) = (String::new(), 0);
    loop {
        // Only a state naming a droplet can have one (`"droplet_id":null` otherwise).
        let rows = sqlx::query(
            "SELECT id, state FROM rm_jobs WHERE id > $1 AND droplet_id = '' \
             AND state LIKE '%\"droplet_id\":\"%' ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(BACKFILL_CHUNK)
        .fetch_all(db.pool())
        .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id")?;
        let mut tx = db.begin().await?;
        for row in &rows {
            let state: String = row.try_get("state")?;
            let loaded: Loaded<Job> = serde_json::from_str(&state)?;
            let Some(droplet) = loaded.state.droplet_id else {
                continue;
            };
            let id: String = row.try_get("id")?;
            filled +=
                sqlx::query("UPDATE rm_jobs SET droplet_id = $1 WHERE id = $2 AND droplet_id = ''")
                    .bind(droplet.as_str())
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
        }
        tx.commit().await?;
    }
    sqlx::query("DELETE FROM rm_backfills WHERE name = $1")
        .bind(DROPLET_BACKFILL)
        .execute(db.pool())
        .await?;
    Ok(filled)
}
