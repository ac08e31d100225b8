//! The per-cluster summary (`GET /v1/clusters/{id}/summary`): the cluster's name, health
//! status and droplet count, its droplets counted by status, and its last job.
//!
//! In the cache it is a fold of its own ([`SummaryState`]) over every event of the cluster,
//! of its droplets and of its jobs; the SQL fallback computes the same answer from the
//! read-model rows (`ReadModels::cluster_summary`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The summary of one cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ClusterSummary {
    pub cluster_id: String,
    pub name: String,
    /// Health: `healthy`, `warning` or `critical`.
    pub status: String,
    /// Droplets that are not destroyed (as on the cluster).
    pub droplet_count: usize,
    /// Every droplet the cluster ever had, counted by status (`destroyed` included).
    pub droplets_by_status: BTreeMap<String, u64>,
    /// The job created last (by creation time, then id).
    pub last_job: Option<LastJob>,
    /// Position of the last event of the cluster, its droplets or its jobs.
    pub position: i64,
}

/// The last job of a cluster, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LastJob {
    pub id: String,
    #[serde(rename = "type")]
    pub job_type: String,
    pub status: String,
    pub progress: u8,
}

/// What one event changed, as the summary needs it (taken from the folded aggregate).
#[derive(Debug, Clone, PartialEq)]
pub enum Touch {
    /// A cluster event; `created` for `cluster.created`.
    Cluster {
        name: String,
        status: String,
        droplet_count: usize,
        deleted: bool,
        created: bool,
    },
    /// A droplet event: the droplet's status after it.
    Droplet { id: String, status: String },
    /// A job event: the job after it, with its creation time (RFC 3339 text).
    Job { job: LastJob, created_at: String },
}

/// The fold behind a summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryState {
    pub cluster_id: String,
    pub name: String,
    pub status: String,
    pub droplet_count: usize,
    pub deleted: bool,
    /// Droplet id -> status.
    pub droplets: BTreeMap<String, String>,
    /// The last job and its creation time.
    pub last_job: Option<(LastJob, String)>,
    pub position: i64,
}

impl SummaryState {
    /// A summary for `cluster_id` that has seen nothing yet.
    pub fn new(cluster_id: &str) -> Self {
        Self {
            cluster_id: cluster_id.to_owned(),
            ..Self::default()
        }
    }

    /// Applies what the event at `position` changed.
    pub fn apply(&mut self, touch: Touch, position: i64) {
        match touch {
            Touch::Cluster {
                name,
                status,
                droplet_count,
                deleted,
                created: _,
            } => {
                self.name = name;
                self.status = status;
                self.droplet_count = droplet_count;
                self.deleted = deleted;
            }
            Touch::Droplet { id, status } => {
                self.droplets.insert(id, status);
            }
            Touch::Job { job, created_at } => self.apply_job(job, created_at),
        }
        self.position = position;
    }

    fn apply_job(&mut self, job: LastJob, created_at: String) {
        let later = match &self.last_job {
            None => true,
            Some((last, last_created)) => {
                (created_at.as_str(), job.id.as_str()) >= (last_created.as_str(), last.id.as_str())
            }
        };
        if later {
            self.last_job = Some((job, created_at));
        }
    }

    /// The answer, or None for a deleted cluster.
    pub fn render(&self) -> Option<ClusterSummary> {
        if self.deleted {
            return None;
        }
        let mut by_status = BTreeMap::new();
        for status in self.droplets.values() {
            *by_status.entry(status.clone()).or_insert(0) += 1;
        }
        Some(ClusterSummary {
            cluster_id: self.cluster_id.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
            droplet_count: self.droplet_count,
            droplets_by_status: by_status,
            last_job: self.last_job.as_ref().map(|(job, _)| job.clone()),
            position: self.position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, status: &str) -> LastJob {
        LastJob {
            id: id.into(),
            job_type: "provision".into(),
            status: status.into(),
            progress: 0,
        }
    }

    fn cluster(deleted: bool) -> Touch {
        Touch::Cluster {
            name: "web".into(),
            status: "healthy".into(),
            droplet_count: 1,
            deleted,
            created: false,
        }
    }

    #[test]
    fn counts_droplets_by_their_latest_status() {
        let mut s = SummaryState::new("cl_1");
        s.apply(cluster(false), 1);
        let droplet = |id: &str, status: &str| Touch::Droplet {
            id: id.into(),
            status: status.into(),
        };
        s.apply(droplet("dr_1", "provisioning"), 2);
        s.apply(droplet("dr_2", "provisioning"), 3);
        s.apply(droplet("dr_1", "active"), 4);
        let summary = s.render().unwrap();
        assert_eq!(
            summary.droplets_by_status,
            BTreeMap::from([("active".into(), 1), ("provisioning".into(), 1)])
        );
        assert_eq!((summary.position, summary.droplet_count), (4, 1));
    }

    #[test]
    fn last_job_is_the_one_created_last_whatever_the_event_order() {
        let mut s = SummaryState::new("cl_1");
        let touch = |id: &str, status: &str, at: &str| Touch::Job {
            job: job(id, status),
            created_at: at.into(),
        };
        s.apply(touch("job_b", "pending", "2026-01-01T00:00:02Z"), 1);
        // An older job's later event does not take its place.
        s.apply(touch("job_a", "running", "2026-01-01T00:00:01Z"), 2);
        assert_eq!(s.render().unwrap().last_job, Some(job("job_b", "pending")));
        s.apply(touch("job_b", "succeeded", "2026-01-01T00:00:02Z"), 3);
        assert_eq!(
            s.render().unwrap().last_job,
            Some(job("job_b", "succeeded"))
        );
    }

    #[test]
    fn a_deleted_cluster_has_no_summary() {
        let mut s = SummaryState::new("cl_1");
        s.apply(cluster(true), 9);
        assert_eq!(s.render(), None);
    }
}
