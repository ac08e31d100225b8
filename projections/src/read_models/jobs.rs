//! `rm_jobs`: one row per job.

use async_trait::async_trait;
use engine::domain::Job;
use engine::store::RecordedEvent;
use engine::views::JobView;
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::rows::{project, time, Folded, Value};
use super::tables::{TableDef, JOBS};
use crate::bulk::BulkFill;
use crate::{Projection, ProjectionError, Target};

/// Builds `rm_jobs`.
pub struct JobsProjection;

#[async_trait]
impl Projection for JobsProjection {
    fn name(&self) -> &'static str {
        "jobs"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&JOBS)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        project::<Job>(conn, &JOBS, target, events, "job", render).await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(BulkRows::<Job>::new(
            &JOBS, "job", render, existing,
        )))
    }
}

fn render(f: &Folded<Job>) -> Result<Vec<Value>, ProjectionError> {
    let view = JobView::from_loaded(&f.loaded);
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(view.job_type.clone()),
        Value::Text(view.cluster_id.clone()),
        Value::Text(view.status.clone()),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&view)?),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
