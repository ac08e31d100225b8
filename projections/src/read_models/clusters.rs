//! `rm_clusters`: one row per cluster.

use async_trait::async_trait;
use engine::domain::Cluster;
use engine::store::RecordedEvent;
use engine::views::ClusterView;
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::rows::{project, time, Folded, Value};
use super::tables::{TableDef, CLUSTERS};
use crate::bulk::BulkFill;
use crate::{Projection, ProjectionError, Target};

/// Builds `rm_clusters`.
pub struct ClustersProjection;

#[async_trait]
impl Projection for ClustersProjection {
    fn name(&self) -> &'static str {
        "clusters"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&CLUSTERS)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        project::<Cluster>(conn, &CLUSTERS, target, events, "cluster", render).await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(BulkRows::<Cluster>::new(
            &CLUSTERS, "cluster", render, existing,
        )))
    }
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
        Value::Text(serde_json::to_string(&view)?),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}
