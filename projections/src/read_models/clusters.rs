//! `rm_clusters`: one row per cluster.

use async_trait::async_trait;
use engine::domain::Cluster;
use engine::store::RecordedEvent;
use engine::views::ClusterView;
use sqlx::AnyConnection;

use super::rows::{fold_event, time};
use crate::{Projection, ProjectionError};

/// Builds `rm_clusters`.
pub struct ClustersProjection;

#[async_trait]
impl Projection for ClustersProjection {
    fn name(&self) -> &'static str {
        "clusters"
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if event.aggregate_type != "cluster" {
            return Ok(());
        }
        let Some(loaded) = fold_event::<Cluster>(conn, "rm_clusters", event).await? else {
            return Ok(());
        };
        let view = ClusterView::from_loaded(&loaded);
        sqlx::query(
            "INSERT INTO rm_clusters (id, name, region, status, deleted, created_at, view, state, last_position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, region = excluded.region, \
             status = excluded.status, deleted = excluded.deleted, view = excluded.view, \
             state = excluded.state, last_position = excluded.last_position",
        )
        .bind(&event.aggregate_id)
        .bind(&view.name)
        .bind(&view.region)
        .bind(&view.status)
        .bind(i64::from(loaded.state.deleted))
        .bind(time(loaded.created_at))
        .bind(serde_json::to_string(&view)?)
        .bind(serde_json::to_string(&loaded)?)
        .bind(event.position)
        .execute(conn)
        .await?;
        Ok(())
    }
}
