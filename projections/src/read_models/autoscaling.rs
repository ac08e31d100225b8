//! `rm_autoscaling`: one row per cluster that ever had an auto-scaling policy: the policy
//! in force (`null` once removed) with the time and cluster stream version that set it,
//! and the time and job of the last acting decision (`autoscaling.decided`). A deleted
//! cluster's row goes. The autoscaler's rounds read the enabled policies through the
//! `enabled` index (see [`crate::autoscaling_directory`]); `GET
//! /v1/clusters/{id}/autoscaling` reads one row.

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use engine::domain::cluster::AutoscalingPolicy;
use engine::domain::{event_from_ref, AutoscalerEvent, ClusterEvent};
use engine::store::RecordedEvent;
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use super::tables::{Index, TableDef};
use crate::{Projection, ProjectionError, ReadDb, Target};

/// `rm_autoscaling`.
pub const AUTOSCALING: TableDef = TableDef {
    name: "rm_autoscaling",
    columns: &[
        "cluster_id TEXT PRIMARY KEY",
        "enabled BIGINT NOT NULL",
        "policy TEXT",
        "updated_at TEXT",
        "version BIGINT",
        "last_acting_at TEXT",
        "last_job_id TEXT",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[Index {
        short: "enabled",
        columns: "enabled, cluster_id",
        filter: None,
    }],
    search: None,
    loaded_with: None,
};

/// A cluster's policy as `GET /v1/clusters/{id}/autoscaling` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AutoscalingPolicyView {
    pub cluster_id: String,
    #[serde(flatten)]
    pub policy: AutoscalingPolicy,
    /// When the policy was set.
    pub updated_at: DateTime<Utc>,
    /// The cluster stream version that set it.
    pub version: u64,
}

/// Builds `rm_autoscaling`.
pub struct AutoscalingProjection;

/// Whether `event` changes `rm_autoscaling`.
fn handled(event: &RecordedEvent) -> bool {
    match event.aggregate_type.as_str() {
        "cluster" => {
            event.event_type.starts_with("cluster.autoscaling_policy_")
                || event.event_type == "cluster.deleted"
        }
        "autoscaler" => true,
        _ => false,
    }
}

#[async_trait]
impl Projection for AutoscalingProjection {
    fn name(&self) -> &'static str {
        "autoscaling"
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(&AUTOSCALING)
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        handled(event)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let table = target.table(AUTOSCALING.name);
        for event in events.iter().filter(|e| handled(e)) {
            apply_one(conn, &table, event).await?;
        }
        Ok(())
    }
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn apply_one(
    conn: &mut AnyConnection,
    table: &str,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    let id = event.aggregate_id.as_str();
    let position = event.position;
    let sql = match event.aggregate_type.as_str() {
        "autoscaler" => {
            let AutoscalerEvent::Decided(decided) = event_from_ref(&event.event_type, &event.data)?;
            let sql = format!(
                "INSERT INTO {table} AS t (cluster_id, enabled, last_acting_at, last_job_id, \
                 last_position) VALUES ($1, 0, $2, $3, $4) ON CONFLICT (cluster_id) DO UPDATE \
                 SET last_acting_at = $2, last_job_id = $3, last_position = $4 \
                 WHERE t.last_position < $4"
            );
            sqlx::query(&sql)
                .bind(id)
                .bind(rfc3339(decided.decided_at))
                .bind(decided.job_id.to_string())
                .bind(position)
                .execute(&mut *conn)
                .await?;
            return Ok(());
        }
        _ => match event_from_ref::<ClusterEvent>(&event.event_type, &event.data)? {
            ClusterEvent::AutoscalingPolicySet(set) => {
                let sql = format!(
                    "INSERT INTO {table} AS t (cluster_id, enabled, policy, updated_at, version, \
                     last_position) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (cluster_id) \
                     DO UPDATE SET enabled = $2, policy = $3, updated_at = $4, version = $5, \
                     last_position = $6 WHERE t.last_position < $6"
                );
                sqlx::query(&sql)
                    .bind(id)
                    .bind(i64::from(set.policy.enabled))
                    .bind(serde_json::to_string(&set.policy)?)
                    .bind(rfc3339(event.recorded_at))
                    .bind(event.sequence)
                    .bind(position)
                    .execute(&mut *conn)
                    .await?;
                return Ok(());
            }
            ClusterEvent::AutoscalingPolicyRemoved(_) => format!(
                "UPDATE {table} SET enabled = 0, policy = NULL, updated_at = NULL, \
                 version = NULL, last_position = $2 WHERE cluster_id = $1 AND last_position < $2"
            ),
            ClusterEvent::Deleted(_) => {
                format!("DELETE FROM {table} WHERE cluster_id = $1 AND last_position < $2")
            }
            _ => return Ok(()),
        },
    };
    sqlx::query(&sql)
        .bind(id)
        .bind(position)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The policy of `cluster_id`, if one is set.
pub async fn get(
    db: &ReadDb,
    cluster_id: &str,
) -> Result<Option<AutoscalingPolicyView>, ProjectionError> {
    let row = sqlx::query(
        "SELECT policy, updated_at, version FROM rm_autoscaling \
         WHERE cluster_id = $1 AND policy IS NOT NULL",
    )
    .bind(cluster_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let policy: String = row.try_get("policy")?;
    let updated_at: String = row.try_get("updated_at")?;
    let version: i64 = row.try_get("version")?;
    let updated_at = DateTime::parse_from_rfc3339(&updated_at)
        .map_err(|e| ProjectionError::Invalid(format!("rm_autoscaling.updated_at: {e}")))?
        .with_timezone(&Utc);
    Ok(Some(AutoscalingPolicyView {
        cluster_id: cluster_id.to_owned(),
        policy: serde_json::from_str(&policy)?,
        updated_at,
        version: u64::try_from(version).unwrap_or(0),
    }))
}
