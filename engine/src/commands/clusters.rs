//! Cluster commands: create, update (rename / move), delete, and record a health check's
//! status.

use super::error::Fields;
use super::providers::resolve_provider;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::{
    status_reason, Cluster, ClusterCommand, ClusterId, ClusterName, ClusterStatus, Decide,
    HealthIssue, ProviderName, Region,
};
use crate::fold::Loaded;
use crate::store::{now, ReplyKind};
use crate::views::ClusterView;

/// Create a cluster.
#[derive(Debug, Clone)]
pub struct CreateCluster {
    pub id: ClusterId,
    pub name: ClusterName,
    pub region: Region,
    pub provider: Option<ProviderName>,
}

impl CreateCluster {
    /// Validates raw input (every field's error is reported).
    pub fn parse(name: &str, region: &str, provider: Option<&str>) -> Result<Self, CommandError> {
        let mut fields = Fields::default();
        let name = fields.check(ClusterName::parse(name));
        let region = fields.check(Region::parse(region));
        let provider = provider.and_then(|p| fields.check(ProviderName::parse(p)));
        fields.finish()?;
        match (name, region) {
            (Some(name), Some(region)) => Ok(Self {
                id: ClusterId::new(),
                name,
                region,
                provider,
            }),
            _ => Err(CommandError::Invalid(Vec::new())),
        }
    }
}

impl Command for CreateCluster {
    type Output = ClusterView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<ClusterView>, CommandError> {
        let provider = match &self.provider {
            Some(name) => Some(resolve_provider(service, name, "provider").await?),
            None => None,
        };
        let mut cluster = Loaded::<Cluster>::default();
        let events = cluster.state.decide(ClusterCommand::CreateCluster {
            id: self.id.clone(),
            name: self.name.clone(),
            region: self.region,
            provider,
        })?;
        let at = now();
        let write = stream_write::<Cluster>(self.id.as_str(), 0, &events, at)?;
        cluster.apply_new(&events, at);
        Ok(Decision {
            writes: vec![write],
            value: ClusterView::from_loaded(&cluster),
            kind: ReplyKind::Created,
            unchanged_position: 0,
        })
    }
}

/// Rename and/or move a cluster.
#[derive(Debug, Clone)]
pub struct UpdateCluster {
    pub id: String,
    pub name: Option<ClusterName>,
    pub region: Option<Region>,
    /// The version the caller saw (`If-Match`).
    pub if_match: Option<u64>,
}

impl UpdateCluster {
    /// Validates raw input.
    pub fn parse(
        id: &str,
        name: Option<&str>,
        region: Option<&str>,
        if_match: Option<u64>,
    ) -> Result<Self, CommandError> {
        let mut fields = Fields::default();
        let name = name.and_then(|n| fields.check(ClusterName::parse(n)));
        let region = region.and_then(|r| fields.check(Region::parse(r)));
        fields.finish()?;
        Ok(Self {
            id: id.to_owned(),
            name,
            region,
            if_match,
        })
    }
}

impl Command for UpdateCluster {
    type Output = ClusterView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<ClusterView>, CommandError> {
        let mut cluster = load_live(service, &self.id, self.if_match).await?;
        let expected = cluster.version;
        let mut events = Vec::new();
        if let Some(name) = &self.name {
            events.extend(
                cluster
                    .state
                    .decide(ClusterCommand::RenameCluster { name: name.clone() })?,
            );
        }
        let at = now();
        cluster.apply_new(&events, at);
        if let Some(region) = &self.region {
            let provider = match &cluster.state.provider {
                Some(name) => Some(resolve_provider(service, name, "region").await?),
                None => None,
            };
            let moved = cluster.state.decide(ClusterCommand::MoveCluster {
                region: *region,
                provider,
            })?;
            cluster.apply_new(&moved, at);
            events.extend(moved);
        }
        Ok(Decision {
            writes: vec![stream_write::<Cluster>(&self.id, expected, &events, at)?],
            value: ClusterView::from_loaded(&cluster),
            kind: ReplyKind::Done,
            unchanged_position: cluster.last_position,
        })
    }
}

/// Delete a cluster (refused while it has droplets that are not destroyed).
#[derive(Debug, Clone)]
pub struct DeleteCluster {
    pub id: String,
    pub if_match: Option<u64>,
}

impl Command for DeleteCluster {
    type Output = ClusterView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<ClusterView>, CommandError> {
        let mut cluster = load_live(service, &self.id, self.if_match).await?;
        let expected = cluster.version;
        let events = cluster.state.decide(ClusterCommand::DeleteCluster)?;
        let at = now();
        cluster.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<Cluster>(&self.id, expected, &events, at)?],
            value: ClusterView::from_loaded(&cluster),
            kind: ReplyKind::Done,
            unchanged_position: cluster.last_position,
        })
    }
}

/// Loads a cluster that exists and is not deleted, checking `If-Match`.
pub(crate) async fn load_live(
    service: &CommandService,
    id: &str,
    if_match: Option<u64>,
) -> Result<Loaded<Cluster>, CommandError> {
    let cluster = service.load::<Cluster>(id).await?;
    if !cluster.state.is_live() {
        return Err(CommandError::NotFound {
            what: "cluster",
            id: id.to_owned(),
        });
    }
    check_version(if_match, cluster.version)?;
    Ok(cluster)
}

/// `If-Match` against the loaded version.
pub(crate) fn check_version(if_match: Option<u64>, actual: u64) -> Result<(), CommandError> {
    match if_match {
        Some(expected) if expected != actual => {
            Err(CommandError::PreconditionFailed { expected, actual })
        }
        _ => Ok(()),
    }
}

/// Record what a health check found: the cluster's new status and the issues behind it.
/// Nothing is appended when the status is unchanged, so repeating a check is free.
#[derive(Debug, Clone)]
pub struct RecordClusterHealth {
    pub id: ClusterId,
    pub status: ClusterStatus,
    pub issues: Vec<HealthIssue>,
}

impl Command for RecordClusterHealth {
    type Output = ClusterView;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<ClusterView>, CommandError> {
        let mut cluster = load_live(service, self.id.as_str(), None).await?;
        let expected = cluster.version;
        let events = cluster.state.decide(ClusterCommand::ChangeClusterStatus {
            status: self.status,
            reason: status_reason(&self.issues),
            issues: self.issues.clone(),
        })?;
        let at = now();
        cluster.apply_new(&events, at);
        Ok(Decision {
            writes: vec![stream_write::<Cluster>(
                self.id.as_str(),
                expected,
                &events,
                at,
            )?],
            value: ClusterView::from_loaded(&cluster),
            kind: ReplyKind::Done,
            unchanged_position: cluster.last_position,
        })
    }
}
