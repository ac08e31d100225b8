//! `rm_jobs`: one row per job.

use async_trait::async_trait;
use engine::domain::Job;
use engine::store::RecordedEvent;
use engine::views::JobView;
use sqlx::AnyConnection;

use super::rows::{fold_event, time};
use crate::{Projection, ProjectionError};

/// Builds `rm_jobs`.
pub struct JobsProjection;

#[async_trait]
impl Projection for JobsProjection {
    fn name(&self) -> &'static str {
        "jobs"
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "job" {
            return Ok(());
        }
        let Some(loaded) = fold_event::<Job>(conn, "rm_jobs", event).await? else {
            return Ok(());
        };
        let view = JobView::from_loaded(&loaded);
        sqlx::query(
            "INSERT INTO rm_jobs (id, job_type, cluster_id, status, created_at, view, state, last_position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, view = excluded.view, \
             state = excluded.state, last_position = excluded.last_position",
        )
        .bind(&event.aggregate_id)
        .bind(&view.job_type)
        .bind(&view.cluster_id)
        .bind(&view.status)
        .bind(time(loaded.created_at))
        .bind(serde_json::to_string(&view)?)
        .bind(serde_json::to_string(&loaded)?)
        .bind(event.position)
        .execute(conn)
        .await?;
        Ok(())
    }
}
