//! `rm_droplets`: one row per droplet, plus this projection's own copy of cluster names
//! (joined in at query time, so a rename shows on every droplet at once).

use async_trait::async_trait;
use engine::domain::Droplet;
use engine::store::RecordedEvent;
use engine::views::DropletView;
use sqlx::AnyConnection;

use super::rows::{fold_event, time};
use crate::{Projection, ProjectionError};

/// Builds `rm_droplets` and `rm_droplet_cluster_names`.
pub struct DropletsProjection;

#[async_trait]
impl Projection for DropletsProjection {
    fn name(&self) -> &'static str {
        "droplets"
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        match (event.aggregate_type.as_str(), event.event_type.as_str()) {
            ("cluster", "cluster.created" | "cluster.renamed") => cluster_name(conn, event).await,
            ("droplet", _) => droplet(conn, event).await,
            _ => Ok(()),
        }
    }
}

async fn cluster_name(
    conn: &mut AnyConnection,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    let Some(name) = event.data.get("name").and_then(|n| n.as_str()) else {
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO rm_droplet_cluster_names (cluster_id, name, last_position) VALUES ($1, $2, $3) \
         ON CONFLICT (cluster_id) DO UPDATE SET name = excluded.name, \
         last_position = excluded.last_position \
         WHERE rm_droplet_cluster_names.last_position < excluded.last_position",
    )
    .bind(&event.aggregate_id)
    .bind(name)
    .bind(event.position)
    .execute(conn)
    .await?;
    Ok(())
}

async fn droplet(conn: &mut AnyConnection, event: &RecordedEvent) -> Result<(), ProjectionError> {
    let Some(loaded) = fold_event::<Droplet>(conn, "rm_droplets", event).await? else {
        return Ok(());
    };
    let view = DropletView::from_loaded(&loaded, None);
    sqlx::query(
        "INSERT INTO rm_droplets (id, cluster_id, name, status, created_at, view, state, last_position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (id) DO UPDATE SET cluster_id = excluded.cluster_id, name = excluded.name, \
         status = excluded.status, view = excluded.view, state = excluded.state, \
         last_position = excluded.last_position",
    )
    .bind(&event.aggregate_id)
    .bind(&view.cluster_id)
    .bind(&view.name)
    .bind(&view.status)
    .bind(time(loaded.created_at))
    .bind(serde_json::to_string(&view)?)
    .bind(serde_json::to_string(&loaded)?)
    .bind(event.position)
    .execute(conn)
    .await?;
    Ok(())
}
