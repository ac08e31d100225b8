//! `rm_clusters`: one row per cluster.

use engine::domain::Cluster;
use engine::fold::Loaded;

use super::list_counts::{key, ALL};
use super::row_model::RowModel;
use super::rows::{text, time, Folded, Value};
use super::tables::{TableDef, CLUSTERS, CLUSTER_COUNTS};
use crate::ProjectionError;

const TABLES: [TableDef; 2] = [CLUSTERS, CLUSTER_COUNTS];

/// Builds `rm_clusters` and its list's counts.
pub fn projection() -> RowModel<Cluster> {
    RowModel::counted("clusters", &TABLES, "cluster", render, counted_in)
}

/// A live cluster is in the list, and in the list of its status.
fn counted_in(c: &Loaded<Cluster>) -> Vec<String> {
    match c.state.is_live() {
        true => vec![ALL.to_owned(), key("status", c.state.status.as_str())],
        false => Vec::new(),
    }
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
