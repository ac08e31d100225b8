//! The autoscaler's [`AutoscalingDirectory`] over the read models: each method is one
//! statement whatever the number of clusters, joining `rm_autoscaling` (the enabled
//! policies, through its `enabled` index) with `rm_clusters`, `rm_droplets` or `rm_jobs`.
//! A round over one cluster names it instead (its policy applies even when disabled).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::autoscaling::directory::{DirectoryError, DropletRow, PolicyRow};
use engine::autoscaling::AutoscalingDirectory;
use engine::domain::{ClusterId, Droplet, DropletStatus, PendingAction};
use engine::fold::Loaded;
use engine::provider::BilledAs;
use serde::Deserialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::ReadDb;

/// The read models as the autoscaler sees them.
#[derive(Clone, Debug)]
pub struct AutoscalingReadDirectory {
    db: ReadDb,
}

impl AutoscalingReadDirectory {
    /// A directory over `db`.
    pub fn new(db: ReadDb) -> Self {
        Self { db }
    }

    /// The rows of `sql` whose `{which}` becomes the policies' filter: the enabled ones,
    /// or the one of `cluster`.
    async fn rows(
        &self,
        sql: &str,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<AnyRow>, sqlx::Error> {
        let which = match cluster {
            Some(_) => "a.cluster_id = $1 AND a.policy IS NOT NULL",
            None => "a.enabled = 1 AND a.policy IS NOT NULL",
        };
        let sql = sql.replace("{which}", which);
        let mut query = sqlx::query(&sql);
        if let Some(cluster) = cluster {
            query = query.bind(cluster.as_str().to_owned());
        }
        query.fetch_all(self.db.pool()).await
    }
}

/// What a round reads of a cluster's folded state (`rm_clusters.state`).
#[derive(Deserialize)]
struct ClusterState {
    state: ClusterFields,
}

#[derive(Deserialize)]
struct ClusterFields {
    provider: Option<String>,
    #[serde(default)]
    deployments: engine::domain::cluster::ClusterDeployments,
}

fn time(text: Option<String>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&text?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn policy_row(row: &AnyRow) -> Result<Option<PolicyRow>, DirectoryError> {
    let id: String = row.try_get("cluster_id")?;
    let Ok(cluster_id) = ClusterId::parse(&id) else {
        return Ok(None);
    };
    let policy: String = row.try_get("policy")?;
    let state: String = row.try_get("state")?;
    let cluster: ClusterState = serde_json::from_str(&state)?;
    Ok(Some(PolicyRow {
        cluster_id,
        policy: serde_json::from_str(&policy)?,
        region: row.try_get("region")?,
        provider: cluster.state.provider,
        last_acting_at: time(row.try_get("last_acting_at")?),
        deployment_running: cluster.state.deployments.running.is_some(),
    }))
}

fn droplet_row(row: &AnyRow) -> Result<Option<DropletRow>, DirectoryError> {
    let id: String = row.try_get("cluster_id")?;
    let Ok(cluster_id) = ClusterId::parse(&id) else {
        return Ok(None);
    };
    let state: String = row.try_get("state")?;
    let droplet: Loaded<Droplet> = serde_json::from_str(&state)?;
    let droplet = droplet.state;
    if matches!(
        droplet.status,
        DropletStatus::Failed | DropletStatus::Destroyed
    ) {
        return Ok(None);
    }
    let pending = droplet.status == DropletStatus::Provisioning
        || droplet.pending_action == Some(PendingAction::Destroy);
    Ok(Some(DropletRow {
        cluster_id,
        pending,
        billed: BilledAs::of(&droplet),
    }))
}

#[async_trait]
impl AutoscalingDirectory for AutoscalingReadDirectory {
    async fn policies(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<PolicyRow>, DirectoryError> {
        let sql = "SELECT a.cluster_id, a.policy, a.last_acting_at, c.region, c.state \
                   FROM rm_autoscaling a JOIN rm_clusters c ON c.id = a.cluster_id \
                   WHERE {which} AND c.deleted = 0 ORDER BY a.cluster_id";
        let mut found = Vec::new();
        for row in self.rows(sql, cluster).await? {
            found.extend(policy_row(&row)?);
        }
        Ok(found)
    }

    async fn any_policy(&self) -> Result<bool, DirectoryError> {
        let sql = "SELECT 1 AS one FROM rm_autoscaling a \
                   JOIN rm_clusters c ON c.id = a.cluster_id \
                   WHERE {which} AND c.deleted = 0 LIMIT 1";
        Ok(!self.rows(sql, None).await?.is_empty())
    }

    async fn droplets(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<DropletRow>, DirectoryError> {
        let sql = "SELECT d.cluster_id, d.state FROM rm_autoscaling a \
                   JOIN rm_droplets d ON d.cluster_id = a.cluster_id \
                   WHERE {which} AND d.status NOT IN ('destroyed', 'failed')";
        let mut found = Vec::new();
        for row in self.rows(sql, cluster).await? {
            found.extend(droplet_row(&row)?);
        }
        Ok(found)
    }

    async fn scale_jobs(
        &self,
        cluster: Option<&ClusterId>,
    ) -> Result<Vec<(ClusterId, String)>, DirectoryError> {
        let sql = "SELECT j.cluster_id, j.id FROM rm_autoscaling a \
                   JOIN rm_jobs j ON j.cluster_id = a.cluster_id \
                   WHERE {which} AND j.job_type IN ('scale_up', 'scale_down') \
                   AND j.status IN ('pending', 'queued', 'running') ORDER BY j.created_at";
        let mut found = Vec::new();
        for row in self.rows(sql, cluster).await? {
            let cluster: String = row.try_get("cluster_id")?;
            let id: String = row.try_get("id")?;
            if let Ok(cluster) = ClusterId::parse(&cluster) {
                found.push((cluster, id));
            }
        }
        Ok(found)
    }
}
