//! `rm_diagnoses`: one row per diagnosis (not per stream: a cluster's stream holds all its
//! diagnoses), written by `diagnosis.completed` and updated by
//! `diagnosis.recommendation_implemented`; and the cluster's list, newest first, served by
//! the `(cluster_id, position DESC)` index with a keyset cursor on the position.

use async_trait::async_trait;
use engine::diagnosis::DiagnosisView;
use engine::domain::{event_from_ref, DiagnosisEvent};
use engine::store::RecordedEvent;
use sqlx::{AnyConnection, Row};

use super::tables::{Index, TableDef};
use crate::lists::Cursor;
use crate::{Page, PageRequest, Projection, ProjectionError, ReadDb, Target};

/// `rm_diagnoses`.
pub const DIAGNOSES: TableDef = TableDef {
    name: "rm_diagnoses",
    columns: &[
        "id TEXT PRIMARY KEY",
        "cluster_id TEXT NOT NULL",
        "position BIGINT NOT NULL",
        "view TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[Index {
        short: "cluster_position",
        columns: "cluster_id, position DESC",
        filter: None,
    }],
    search: None,
    loaded_with: None,
};

/// Builds `rm_diagnoses`.
pub struct DiagnosesProjection;

#[async_trait]
impl Projection for DiagnosesProjection {
    fn name(&self) -> &'static str {
        "diagnoses"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&DIAGNOSES)
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        event.aggregate_type == "diagnosis"
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let table = target.table(DIAGNOSES.name);
        for event in events.iter().filter(|e| self.handles(e)) {
            match event_from_ref::<DiagnosisEvent>(&event.event_type, &event.data)? {
                DiagnosisEvent::Completed(completed) => {
                    let mut view = DiagnosisView::new(&completed, event.recorded_at);
                    view.position = event.position;
                    insert(conn, &table, &view, event.position).await?;
                }
                DiagnosisEvent::RecommendationImplemented(e) => {
                    let id = e.diagnosis_id.to_string();
                    let rec = e.recommendation_id.to_string();
                    implemented(conn, &table, &id, &rec, e.job_id.as_str(), event.position).await?;
                }
            }
        }
        Ok(())
    }
}

async fn insert(
    conn: &mut AnyConnection,
    table: &str,
    view: &DiagnosisView,
    position: i64,
) -> Result<(), ProjectionError> {
    let sql = format!(
        "INSERT INTO {table} (id, cluster_id, position, view, last_position) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING"
    );
    sqlx::query(&sql)
        .bind(&view.diagnosis_id)
        .bind(&view.cluster_id)
        .bind(position)
        .bind(serde_json::to_string(view)?)
        .bind(position)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records `rec -> job` in the view of diagnosis `id`, unless the row reflects it already.
async fn implemented(
    conn: &mut AnyConnection,
    table: &str,
    id: &str,
    rec: &str,
    job: &str,
    position: i64,
) -> Result<(), ProjectionError> {
    let sql = format!("SELECT view, last_position FROM {table} WHERE id = $1");
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(());
    };
    if row.try_get::<i64, _>("last_position")? >= position {
        return Ok(());
    }
    let mut view: DiagnosisView = serde_json::from_str(&row.try_get::<String, _>("view")?)?;
    view.implemented.insert(rec.to_owned(), job.to_owned());
    let sql = format!("UPDATE {table} SET view = $1, last_position = $2 WHERE id = $3");
    sqlx::query(&sql)
        .bind(serde_json::to_string(&view)?)
        .bind(position)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What the list sorts by (only the log position: newest first by default).
pub const SORTABLE: [&str; 1] = ["position"];

/// The diagnoses of `cluster_id`, in log order (`p.descending`: newest first), a page at
/// a time; `total` is exact up to `count_bound`, then flagged an estimate.
pub async fn list(
    db: &ReadDb,
    cluster_id: &str,
    p: &PageRequest,
    count_bound: i64,
) -> Result<Page<DiagnosisView>, ProjectionError> {
    let (dir, cmp) = if p.descending {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let after = match &p.cursor {
        Some(cursor) => Some(cursor.key.parse::<i64>().map_err(|_| {
            ProjectionError::Invalid(
                "cursor is malformed; pass the next_cursor of a list answer".into(),
            )
        })?),
        None => None,
    };
    let keyset = if after.is_some() {
        format!(" AND position {cmp} $2")
    } else {
        String::new()
    };
    let offset = match after {
        Some(_) => 0,
        None => i64::from(p.page.saturating_sub(1)) * i64::from(p.page_size),
    };
    let sql = format!(
        "SELECT id, position, view FROM rm_diagnoses WHERE cluster_id = $1{keyset} \
         ORDER BY position {dir} LIMIT {} OFFSET {offset}",
        i64::from(p.page_size) + 1
    );
    let mut query = sqlx::query(&sql).bind(cluster_id);
    if let Some(after) = after {
        query = query.bind(after);
    }
    let mut rows = query.fetch_all(db.pool()).await?;
    let more = rows.len() > p.page_size as usize;
    rows.truncate(p.page_size as usize);
    let next_cursor = match rows.last().filter(|_| more) {
        Some(last) => Some(
            Cursor {
                sort_by: "position".to_owned(),
                descending: p.descending,
                key: last.try_get::<i64, _>("position")?.to_string(),
                id: last.try_get("id")?,
            }
            .encode()?,
        ),
        None => None,
    };
    let items = rows
        .iter()
        .map(|r| Ok(serde_json::from_str(&r.try_get::<String, _>("view")?)?))
        .collect::<Result<Vec<DiagnosisView>, ProjectionError>>()?;
    let (total, total_is_estimate) = if p.cursor.is_some() {
        (None, false)
    } else {
        let counted: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM (SELECT 1 AS one FROM rm_diagnoses WHERE cluster_id = $1 \
             LIMIT {}) t",
            count_bound + 1
        ))
        .bind(cluster_id)
        .fetch_one(db.pool())
        .await?;
        (Some(counted), counted > count_bound)
    };
    Ok(Page {
        items,
        page: p.cursor.is_none().then_some(p.page),
        page_size: p.page_size,
        total,
        total_is_estimate,
        next_cursor,
    })
}
