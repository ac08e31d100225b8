//! `rm_jobs`: one row per job.

use engine::domain::Job;

use super::row_model::RowModel;
use super::rows::{text, time, Folded, Value};
use super::tables::JOBS;
use crate::ProjectionError;

/// Builds `rm_jobs`.
pub fn projection() -> RowModel<Job> {
    RowModel::new("jobs", &JOBS, "job", render)
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
    ])
}
