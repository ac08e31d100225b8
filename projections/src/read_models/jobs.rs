//! `rm_jobs`: one row per job.

use engine::domain::Job;
use engine::views::JobView;

use super::row_model::RowModel;
use super::rows::{time, Folded, Value};
use super::tables::JOBS;
use crate::ProjectionError;

/// Builds `rm_jobs`.
pub fn projection() -> RowModel<Job> {
    RowModel::new("jobs", &JOBS, "job", render)
}

fn render(f: &Folded<Job>) -> Result<Vec<Value>, ProjectionError> {
    let view = JobView::from_loaded(&f.loaded);
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(view.job_type.clone()),
        Value::Text(view.cluster_id.clone()),
        Value::Text(view.status.clone()),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
