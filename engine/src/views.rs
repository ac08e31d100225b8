//! The resource views the API returns. Built from a folded aggregate ([`Loaded`]) by the
//! command service (for a command's answer) and by the projections (for read-model rows),
//! so both answers are the same code over the same fold.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::domain::{Cluster, Droplet, Job, Latency, ProviderConfig, ProviderSpec};
use crate::fold::Loaded;

mod stored;

/// A cluster as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterView {
    pub id: String,
    pub name: String,
    pub region: String,
    pub provider: Option<String>,
    pub status: String,
    /// Droplets that are not destroyed.
    pub droplet_count: usize,
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ClusterView {
    /// The view of a folded cluster.
    pub fn from_loaded(c: &Loaded<Cluster>) -> Self {
        let s = &c.state;
        Self {
            id: s.id.as_ref().map(ToString::to_string).unwrap_or_default(),
            name: s.name.as_ref().map(ToString::to_string).unwrap_or_default(),
            region: s
                .region
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            provider: s.provider.as_ref().map(ToString::to_string),
            status: s.status.as_str().to_owned(),
            droplet_count: s.droplets.len(),
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A droplet as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DropletView {
    pub id: String,
    pub cluster_id: String,
    pub cluster_name: Option<String>,
    pub name: String,
    pub region: String,
    pub size: String,
    pub image: String,
    pub provider: Option<String>,
    pub status: String,
    pub ip_address: Option<String>,
    /// The job working on the droplet right now, if any.
    pub pending_job_id: Option<String>,
    pub last_error: Option<String>,
    /// The application version it runs (set by deployments; `null`: none).
    #[serde(default)]
    pub app_version: Option<String>,
    pub price_hourly: f64,
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl DropletView {
    /// The view of a folded droplet, with its cluster's current name.
    pub fn from_loaded(d: &Loaded<Droplet>, cluster_name: Option<String>) -> Self {
        let s = &d.state;
        let provider = s.provider.as_ref();
        let price_hourly = match (s.size.as_ref(), provider) {
            (Some(size), Some(p)) => crate::domain::catalog::provider(p.as_str())
                .map_or(size.info().price_hourly(), |p| p.price_hourly(size.info())),
            (Some(size), None) => size.info().price_hourly(),
            _ => 0.0,
        };
        Self {
            id: s.id.as_ref().map(ToString::to_string).unwrap_or_default(),
            cluster_id: s
                .cluster_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            cluster_name,
            name: s.name.as_ref().map(ToString::to_string).unwrap_or_default(),
            region: s
                .region
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            size: s.size.as_ref().map(ToString::to_string).unwrap_or_default(),
            image: s
                .image
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            provider: provider.map(ToString::to_string),
            status: s.status.as_str().to_owned(),
            ip_address: s.ip_address.clone(),
            pending_job_id: s.pending_job.as_ref().map(ToString::to_string),
            last_error: s.last_error.clone(),
            app_version: s.app_version.as_ref().map(ToString::to_string),
            price_hourly: (price_hourly * 1e6).round() / 1e6,
            version: d.version,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// A job as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct JobView {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub cluster_id: String,
    pub droplet_id: Option<String>,
    pub status: String,
    pub progress: u8,
    pub progress_message: Option<String>,
    pub attempts: u32,
    pub max_attempts: u32,
    pub parameters: Value,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub cancel_requested: bool,
    pub worker: Option<String>,
    pub trace_id: String,
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl JobView {
    /// The view of a folded job.
    pub fn from_loaded(j: &Loaded<Job>) -> Self {
        let s = &j.state;
        let finished_at = if s.status.is_terminal() {
            j.updated_at
        } else {
            None
        };
        Self {
            id: s.id.as_ref().map(ToString::to_string).unwrap_or_default(),
            job_type: s
                .job_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            cluster_id: s
                .cluster_id
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            droplet_id: s.droplet_id.as_ref().map(ToString::to_string),
            status: s.status.as_str().to_owned(),
            progress: s.progress,
            progress_message: s.progress_message.clone(),
            attempts: s.attempts,
            max_attempts: s.max_attempts,
            parameters: s.parameters.clone(),
            result: s.result.clone(),
            error: s.error.clone(),
            cancel_requested: s.cancel_requested,
            worker: s.worker.clone(),
            trace_id: s.trace_id.clone(),
            version: j.version,
            created_at: j.created_at,
            updated_at: j.updated_at,
            started_at: j.first("job.started"),
            finished_at,
        }
    }
}

/// A rate-limit rule as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateLimitRuleView {
    pub name: String,
    /// `global`, `user` or `cluster`.
    pub scope: String,
    pub rate_per_sec: f64,
    pub capacity: u32,
    /// The route names it guards, e.g. `jobs.create`.
    pub endpoints: Vec<String>,
    /// A built-in rule name (its default applies when it is not configured).
    pub builtin: bool,
    /// Set through the API (`false`: a built-in default, with no event).
    pub configured: bool,
    /// Events of the rule's stream (0 for a default).
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl RateLimitRuleView {
    /// The view of a rule in force.
    pub fn of(rule: &crate::domain::Rule, builtin: bool, configured: bool) -> Self {
        Self {
            name: rule.name.to_string(),
            scope: rule.spec.scope.as_str().to_owned(),
            rate_per_sec: rule.spec.rate_per_sec.get(),
            capacity: rule.spec.capacity.get(),
            endpoints: rule
                .spec
                .endpoints
                .iter()
                .map(ToString::to_string)
                .collect(),
            builtin,
            configured,
            version: 0,
            created_at: None,
            updated_at: None,
        }
    }

    /// The view of a folded rule stream: the configured rule while it is set, else the
    /// built-in default of its name (if any). `None` for a deleted rule without default.
    pub fn from_loaded(r: &Loaded<crate::domain::RateLimitRule>) -> Option<Self> {
        let name = r.state.name.as_ref()?;
        let builtin = crate::domain::ratelimit_rule::builtin_rule(name.as_str());
        let (rule, configured) = match (r.state.rule(), builtin.clone()) {
            (Some(rule), _) => (rule, true),
            (None, Some(default)) => (default, false),
            (None, None) => return None,
        };
        Some(Self {
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            ..Self::of(&rule, builtin.is_some(), configured)
        })
    }
}

/// A provider configuration as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ProviderView {
    pub name: String,
    pub display_name: String,
    pub regions: Vec<String>,
    pub sizes: Vec<String>,
    pub price_multiplier: f64,
    pub capacity_per_region: u32,
    pub latency: Latency,
    /// `default` (built in, no events) or `registered` (through `POST /v1/providers`).
    pub source: String,
    /// The aggregate version (0 for a default never registered).
    pub version: u64,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl ProviderView {
    /// The view of a configuration (`version` 0: a built-in default).
    pub fn from_spec(spec: &ProviderSpec, version: u64) -> Self {
        Self {
            name: spec.name.to_string(),
            display_name: spec.display_name.clone(),
            regions: spec.regions.iter().map(ToString::to_string).collect(),
            sizes: spec.sizes.iter().map(ToString::to_string).collect(),
            price_multiplier: spec.price_multiplier,
            capacity_per_region: spec.capacity_per_region,
            latency: spec.latency,
            source: if version == 0 {
                "default"
            } else {
                "registered"
            }
            .to_owned(),
            version,
            created_at: None,
            updated_at: None,
        }
    }

    /// The view of a folded provider configuration.
    pub fn from_loaded(p: &Loaded<ProviderConfig>) -> Self {
        match &p.state.spec {
            Some(spec) => Self {
                created_at: p.created_at,
                updated_at: p.updated_at,
                ..Self::from_spec(spec, p.version)
            },
            None => Self {
                name: String::new(),
                display_name: String::new(),
                regions: Vec::new(),
                sizes: Vec::new(),
                price_multiplier: 1.0,
                capacity_per_region: 0,
                latency: Latency::default(),
                source: "registered".to_owned(),
                version: p.version,
                created_at: p.created_at,
                updated_at: p.updated_at,
            },
        }
    }
}
