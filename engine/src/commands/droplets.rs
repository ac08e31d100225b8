//! Droplet commands: create (with its provision job), resize, power, destroy. Each starts
//! a job; the droplet records the job as its one action in flight.

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::clusters::check_version;
use super::error::Fields;
use super::providers::resolve_provider;
use super::service::{stream_write, Command, CommandService, Decision};
use super::CommandError;
use crate::domain::{
    Cluster, ClusterCommand, ClusterError, ClusterId, Decide, Droplet, DropletCommand, DropletId,
    DropletName, Image, Job, JobCommand, JobId, JobType, PowerAction, ProviderName, ProviderOffer,
    Region, Size, ValidationError,
};
use crate::fold::Loaded;
use crate::store::{now, ReplyKind};
use crate::views::{DropletView, JobView};

/// The answer to creating a droplet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DropletCreated {
    pub droplet: DropletView,
    pub job: JobView,
}

// The API's schemas keep this answer's published name, `JobStarted` (the event of that
// name is `domain::job::JobStarted`).
/// The answer to a command that started a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = JobStarted)]
pub struct JobAccepted {
    pub job: JobView,
}

/// Create a droplet in a cluster, with the job that provisions it.
#[derive(Debug, Clone)]
pub struct CreateDroplet {
    pub id: DropletId,
    pub job_id: JobId,
    pub cluster_id: ClusterId,
    pub name: DropletName,
    pub region: Region,
    pub size: Size,
    pub image: Image,
    pub provider: Option<ProviderName>,
    /// Providers placement must not choose (recorded in the provision job's parameters).
    pub avoid_providers: Vec<ProviderName>,
    pub trace_id: String,
}

/// Raw input of [`CreateDroplet`].
#[derive(Debug, Clone, Default)]
pub struct DropletInput<'a> {
    pub cluster_id: &'a str,
    pub name: &'a str,
    pub region: &'a str,
    pub size: &'a str,
    pub image: &'a str,
    pub provider: Option<&'a str>,
}

impl CreateDroplet {
    /// Validates raw input (every field's error is reported).
    pub fn parse(input: DropletInput<'_>, trace_id: String) -> Result<Self, CommandError> {
        let mut f = Fields::default();
        let cluster_id = f.check(ClusterId::parse(input.cluster_id));
        let name = f.check(DropletName::parse(input.name));
        let region = f.check(Region::parse(input.region));
        let size = f.check(Size::parse(input.size));
        let image = f.check(Image::parse(input.image));
        let provider = input.provider.and_then(|p| f.check(ProviderName::parse(p)));
        f.finish()?;
        match (cluster_id, name, region, size, image) {
            (Some(cluster_id), Some(name), Some(region), Some(size), Some(image)) => Ok(Self {
                id: DropletId::new(),
                job_id: JobId::new(),
                cluster_id,
                name,
                region,
                size,
                image,
                provider,
                avoid_providers: Vec::new(),
                trace_id,
            }),
            _ => Err(CommandError::Invalid(Vec::new())),
        }
    }

    /// The same request, never placed on one of `names` (field `avoid_providers`).
    pub fn avoiding(mut self, names: &[String]) -> Result<Self, CommandError> {
        self.avoid_providers = names
            .iter()
            .map(|name| {
                ProviderName::parse(name)
                    .map_err(|e| ValidationError::new("avoid_providers", e.message))
            })
            .collect::<Result<_, _>>()?;
        Ok(self)
    }
}

impl Command for CreateDroplet {
    type Output = DropletCreated;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<DropletCreated>, CommandError> {
        let mut cluster = service.load::<Cluster>(self.cluster_id.as_str()).await?;
        let attached = cluster
            .state
            .decide(ClusterCommand::AttachDroplet {
                droplet_id: self.id.clone(),
            })
            .map_err(|e| match e {
                ClusterError::NotFound => CommandError::Validation(ValidationError::new(
                    "cluster_id",
                    format!("cluster {} does not exist", self.cluster_id),
                )),
                other => other.into(),
            })?;
        let provider = match &self.provider {
            Some(name) => Some(resolve_provider(service, name, "provider").await?),
            None => None,
        };
        for avoided in &self.avoid_providers {
            resolve_provider(service, avoided, "avoid_providers").await?;
        }
        let mut droplet = Loaded::<Droplet>::default();
        let requested = droplet.state.decide(DropletCommand::RequestDroplet {
            id: self.id.clone(),
            cluster_id: self.cluster_id.clone(),
            name: self.name.clone(),
            region: self.region,
            size: self.size,
            image: self.image,
            provider,
            job_id: self.job_id.clone(),
            app_version: cluster.state.deployments.app_version.clone(),
        })?;
        let mut parameters = json!({
            "region": self.region, "size": self.size, "image": self.image, "provider": self.provider,
        });
        if !self.avoid_providers.is_empty() {
            parameters["avoid_providers"] = json!(self.avoid_providers);
        }
        let (job, job_events) = new_job(
            self,
            JobType::Provision,
            parameters,
            service.max_attempts(JobType::Provision),
        )?;
        let at = now();
        let writes = vec![
            stream_write::<Cluster>(self.cluster_id.as_str(), cluster.version, &attached, at)?,
            stream_write::<Droplet>(self.id.as_str(), 0, &requested, at)?,
            stream_write::<Job>(self.job_id.as_str(), 0, &job_events, at)?,
        ];
        cluster.apply_new(&attached, at);
        droplet.apply_new(&requested, at);
        let mut job = job;
        job.apply_new(&job_events, at);
        let cluster_name = cluster.state.name.as_ref().map(ToString::to_string);
        Ok(Decision {
            writes,
            value: DropletCreated {
                droplet: DropletView::from_loaded(&droplet, cluster_name),
                job: JobView::from_loaded(&job),
            },
            kind: ReplyKind::Accepted,
            unchanged_position: 0,
        })
    }
}

fn new_job(
    c: &CreateDroplet,
    job_type: JobType,
    parameters: serde_json::Value,
    max_attempts: u32,
) -> Result<(Loaded<Job>, Vec<crate::domain::JobEvent>), CommandError> {
    let job = Loaded::<Job>::default();
    let events = job.state.decide(JobCommand::CreateJob {
        id: c.job_id.clone(),
        job_type,
        cluster_id: c.cluster_id.clone(),
        droplet_id: Some(c.id.clone()),
        parameters,
        trace_id: c.trace_id.clone(),
        max_attempts,
    })?;
    Ok((job, events))
}

/// What to do to an existing droplet.
#[derive(Debug, Clone, PartialEq)]
pub enum DropletAction {
    Resize(Size),
    Power(PowerAction),
    Destroy,
    /// Move to another provider.
    Migrate(ProviderName),
}

/// Start a job acting on an existing droplet (resize, power, destroy).
#[derive(Debug, Clone)]
pub struct ActOnDroplet {
    pub id: String,
    pub job_id: JobId,
    pub action: DropletAction,
    pub trace_id: String,
    pub if_match: Option<u64>,
}

impl ActOnDroplet {
    /// An action on droplet `id` with a fresh job id.
    pub fn new(id: &str, action: DropletAction, trace_id: String, if_match: Option<u64>) -> Self {
        Self {
            id: id.to_owned(),
            job_id: JobId::new(),
            action,
            trace_id,
            if_match,
        }
    }

    fn job_type(&self) -> JobType {
        match &self.action {
            DropletAction::Resize(_) => JobType::Resize,
            DropletAction::Power(PowerAction::On) => JobType::PowerOn,
            DropletAction::Power(PowerAction::Off) => JobType::PowerOff,
            DropletAction::Power(PowerAction::Restart) => JobType::Restart,
            DropletAction::Destroy => JobType::Destroy,
            DropletAction::Migrate(_) => JobType::Migrate,
        }
    }

    /// The droplet's request; `target` is the migration's resolved target provider.
    fn droplet_command(&self, target: Option<ProviderOffer>) -> DropletCommand {
        let job_id = self.job_id.clone();
        match (&self.action, target) {
            (DropletAction::Resize(size), _) => DropletCommand::RequestResize {
                size: *size,
                job_id,
            },
            (DropletAction::Power(action), _) => DropletCommand::RequestPower {
                action: *action,
                job_id,
            },
            (DropletAction::Destroy, _) => DropletCommand::RequestDestroy { job_id },
            (DropletAction::Migrate(name), target) => DropletCommand::RequestMigration {
                // Resolved in `decide`; an unresolved name offers no region.
                to_provider: target.unwrap_or_else(|| ProviderOffer {
                    name: name.clone(),
                    regions: Vec::new(),
                }),
                job_id,
            },
        }
    }
}

impl Command for ActOnDroplet {
    type Output = JobAccepted;

    async fn decide(
        &self,
        service: &CommandService,
    ) -> Result<Decision<JobAccepted>, CommandError> {
        let droplet = service.load::<Droplet>(&self.id).await?;
        let Some(cluster_id) = droplet.state.cluster_id.clone() else {
            return Err(CommandError::NotFound {
                what: "droplet",
                id: self.id.clone(),
            });
        };
        check_version(self.if_match, droplet.version)?;
        let target = match &self.action {
            DropletAction::Migrate(name) => {
                Some(resolve_provider(service, name, "target_provider").await?)
            }
            _ => None,
        };
        let requested = droplet.state.decide(self.droplet_command(target))?;
        let parameters = match &self.action {
            DropletAction::Resize(size) => json!({ "size": size }),
            DropletAction::Power(action) => json!({ "action": action.as_str() }),
            DropletAction::Destroy => json!({}),
            DropletAction::Migrate(to_provider) => json!({ "target_provider": to_provider }),
        };
        let mut job = Loaded::<Job>::default();
        let job_events = job.state.decide(JobCommand::CreateJob {
            id: self.job_id.clone(),
            job_type: self.job_type(),
            cluster_id,
            droplet_id: droplet.state.id.clone(),
            parameters,
            trace_id: self.trace_id.clone(),
            max_attempts: service.max_attempts(self.job_type()),
        })?;
        let at = now();
        let writes = vec![
            stream_write::<Droplet>(&self.id, droplet.version, &requested, at)?,
            stream_write::<Job>(self.job_id.as_str(), 0, &job_events, at)?,
        ];
        job.apply_new(&job_events, at);
        Ok(Decision {
            writes,
            value: JobAccepted {
                job: JobView::from_loaded(&job),
            },
            kind: ReplyKind::Accepted,
            unchanged_position: 0,
        })
    }
}
