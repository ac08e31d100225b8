//! `rm_clusters`: one row per cluster.

use engine::domain::Cluster;

use super::row_model::RowModel;
use super::rows::{text, time, Folded, Value};
use super::tables::CLUSTERS;
use crate::ProjectionError;

/// Builds `rm_clusters`.
pub fn projection() -> RowModel<Cluster> {
    RowModel::new("clusters", &CLUSTERS, "cluster", render)
}

fn render(f: &Folded<Cluster>) -> Result<Vec<Value>, ProjectionError> {
    let cluster = &f.loaded.state;
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(text(cluster.name.as_ref())),
        Value::Text(text(cluster.region.as_ref())),
        Value::Text(cluster.status.as_str().to_owned()),
        Value::Int(i64::from(cluster.deleted)),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
