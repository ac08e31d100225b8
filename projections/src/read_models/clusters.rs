//! `rm_clusters`: one row per cluster.

use engine::domain::Cluster;
use engine::views::ClusterView;

use super::row_model::RowModel;
use super::rows::{time, Folded, Value};
use super::tables::CLUSTERS;
use crate::ProjectionError;

/// Builds `rm_clusters`.
pub fn projection() -> RowModel<Cluster> {
    RowModel::new("clusters", &CLUSTERS, "cluster", render)
}

fn render(f: &Folded<Cluster>) -> Result<Vec<Value>, ProjectionError> {
    let view = ClusterView::from_loaded(&f.loaded);
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(view.name.clone()),
        Value::Text(view.region.clone()),
        Value::Text(view.status.clone()),
        Value::Int(i64::from(f.loaded.state.deleted)),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
