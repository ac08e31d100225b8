//! The health checker's [`ClusterDirectory`] over the read models: recorded statuses,
//! live droplets, and the clusters a quiet round must still look at. Every query is
//! served by an index of `rm_clusters` or `rm_droplets` and bounded by the clusters
//! asked about, or by those needing attention.

use async_trait::async_trait;
use engine::domain::{ClusterId, ClusterStatus, DropletId, DropletStatus};
use engine::health::{ClusterDirectory, DirectoryError, DropletState};
use sqlx::Row;

use crate::ReadDb;

/// The read models as the health checker sees them.
#[derive(Clone, Debug)]
pub struct HealthDirectory {
    db: ReadDb,
}

impl HealthDirectory {
    /// A directory over `db`.
    pub fn new(db: ReadDb) -> Self {
        Self { db }
    }
}

/// `$1, $2, ... $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_status(text: &str) -> Option<ClusterStatus> {
    ClusterStatus::ALL.into_iter().find(|s| s.as_str() == text)
}

fn parse_droplet_status(text: &str) -> Option<DropletStatus> {
    DropletStatus::ALL.into_iter().find(|s| s.as_str() == text)
}

#[async_trait]
impl ClusterDirectory for HealthDirectory {
    async fn statuses(
        &self,
        clusters: &[ClusterId],
    ) -> Result<Vec<(ClusterId, ClusterStatus)>, DirectoryError> {
        if clusters.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, status FROM rm_clusters WHERE deleted = 0 AND id IN ({})",
            placeholders(clusters.len())
        );
        let mut query = sqlx::query(&sql);
        for id in clusters {
            query = query.bind(id.as_str().to_owned());
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            if let (Ok(id), Some(status)) = (ClusterId::parse(&id), parse_status(&status)) {
                found.push((id, status));
            }
        }
        Ok(found)
    }

    async fn droplets(
        &self,
        clusters: &[ClusterId],
    ) -> Result<Vec<(ClusterId, DropletState)>, DirectoryError> {
        if clusters.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT cluster_id, id, status FROM rm_droplets \
             WHERE status <> 'destroyed' AND cluster_id IN ({})",
            placeholders(clusters.len())
        );
        let mut query = sqlx::query(&sql);
        for id in clusters {
            query = query.bind(id.as_str().to_owned());
        }
        let rows = query.fetch_all(self.db.pool()).await?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let cluster: String = row.try_get("cluster_id")?;
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let parsed = (
                ClusterId::parse(&cluster),
                DropletId::parse(&id),
                parse_droplet_status(&status),
            );
            if let (Ok(cluster), Ok(id), Some(status)) = parsed {
                found.push((cluster, DropletState { id, status }));
            }
        }
        Ok(found)
    }

    async fn needing_attention(&self) -> Result<Vec<ClusterId>, DirectoryError> {
        let unhealthy: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM rm_clusters WHERE deleted = 0 AND status IN ('warning', 'critical')",
        )
        .fetch_all(self.db.pool())
        .await?;
        let failing: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT cluster_id FROM rm_droplets WHERE status = 'failed'",
        )
        .fetch_all(self.db.pool())
        .await?;
        Ok(unhealthy
            .iter()
            .chain(&failing)
            .filter_map(|id| ClusterId::parse(id).ok())
            .collect())
    }
}
