//! What a projection is, what the runtime reports about it, and how it is tuned.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use engine::store::RecordedEvent;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::bulk::BulkFill;
use crate::read_models::TableDef;
use crate::{ProjectionError, Target};

/// A read model fed by the log.
#[async_trait]
pub trait Projection: Send + Sync + 'static {
    /// Stable id; names the checkpoint row.
    fn name(&self) -> &'static str;

    /// The tables it owns (a rebuild or replay creates fresh copies of them).
    fn tables(&self) -> &'static [TableDef];

    /// Applies a batch of events, in position order, to its tables in `target` (ignore the
    /// events you do not need). Must be idempotent: events a row already reflects are
    /// skipped.
    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError>;

    /// Whether applying `event` may change this projection's tables. The runtime neither
    /// applies nor checkpoints a batch none of whose events this projection handles, so
    /// an event it does not read costs it no write. By default: every event.
    fn handles(&self, _event: &RecordedEvent) -> bool {
        true
    }

    /// A session that fills fresh copies of the tables (a rebuild's shadow, a replay's
    /// scratch schema) by folding every aggregate in memory and writing each row once
    /// (see [`crate::bulk`]); `existing` when the copy already holds rows. `None`: the
    /// fill applies this projection batch by batch instead.
    fn bulk(&self, _existing: bool) -> Option<Box<dyn BulkFill>> {
        None
    }

    /// `state`, a value of the `state` column of `table`, as this version writes it:
    /// `clustergenie diff` compares rows so, and a row an earlier version wrote for the
    /// same fold then compares equal. By default: as stored.
    fn canonical_state(&self, _table: &TableDef, state: &str) -> Result<String, ProjectionError> {
        Ok(state.to_owned())
    }
}

/// What a projection's live worker is doing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerState {
    /// Not started yet.
    #[default]
    Starting,
    /// Caught up with the log head (or applying the events after it).
    Running,
    /// The last batch failed; retrying with a growing pause.
    Retrying,
    /// Stopped with the application.
    Stopped,
}

/// `running`, `completed` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    /// Filling the shadow tables (or interrupted: the next start resumes it).
    Running,
    /// Swapped in.
    Completed,
    /// Given up on (`error` says why); the live tables are untouched.
    Failed,
}

impl RebuildState {
    /// The value of `rm_rebuilds.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }
}

impl std::str::FromStr for RebuildState {
    type Err = ProjectionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Running, Self::Completed, Self::Failed]
            .into_iter()
            .find(|state| state.as_str() == text)
            .ok_or_else(|| ProjectionError::Invalid(format!("unknown rebuild status {text:?}")))
    }
}

/// What `GET /v1/projections` shows about one projection.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct ProjectionStatus {
    pub name: String,
    pub position: i64,
    pub lag: i64,
    #[schema(inline)]
    pub status: WorkerState,
    pub last_error: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Age of the oldest event not yet applied (0 when caught up).
    pub lag_seconds: f64,
    /// Events applied per second over the last ten seconds.
    pub events_per_second: f64,
    /// Events parked as dead letters.
    pub parked: i64,
    /// The rebuild in progress or the last one, if any.
    pub rebuild: Option<RebuildStatus>,
}

/// A projection's rebuild, as `rm_rebuilds` and the shadow checkpoint record it.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct RebuildStatus {
    #[schema(inline)]
    pub status: RebuildState,
    /// How far the shadow copy has got (the swap position once completed).
    pub position: i64,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub error: Option<String>,
}

/// Tuning of the runtime.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub batch_size: i64,
    /// Events per batch while rebuilding (larger: nobody waits on a shadow copy).
    pub rebuild_batch_size: i64,
    /// How often to look for new events when no notification arrives.
    pub poll_interval: Duration,
    /// A projection that handles none of the events it passes saves its checkpoint once
    /// it is this many positions behind (so a restart does not re-read them all).
    pub idle_checkpoint_every: i64,
    /// Tries of an event that fails to apply before it is parked.
    pub max_attempts: u32,
    /// Pause before the second try; doubles up to `retry_max`.
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// How often the trigram indexes' pending lists are merged while their tables are
    /// written (PostgreSQL; see `pending_lists`).
    pub search_merge_every: Duration,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            rebuild_batch_size: 5_000,
            poll_interval: Duration::from_millis(500),
            idle_checkpoint_every: 10_000,
            max_attempts: 5,
            retry_initial: Duration::from_millis(100),
            retry_max: Duration::from_secs(5),
            search_merge_every: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_serialise_to_the_names_the_api_shows() {
        let names = |values: Vec<serde_json::Value>| -> Vec<String> {
            values
                .iter()
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let workers = [
            WorkerState::Starting,
            WorkerState::Running,
            WorkerState::Retrying,
            WorkerState::Stopped,
        ];
        let workers = workers.map(|s| serde_json::to_value(s).unwrap()).to_vec();
        assert_eq!(
            names(workers),
            ["starting", "running", "retrying", "stopped"]
        );
        let rebuilds = [
            RebuildState::Running,
            RebuildState::Completed,
            RebuildState::Failed,
        ];
        for state in rebuilds {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
            assert_eq!(state.as_str().parse::<RebuildState>().unwrap(), state);
        }
    }

    #[test]
    fn an_unknown_rebuild_status_is_an_error() {
        let error = "paused".parse::<RebuildState>().unwrap_err();
        assert!(error.to_string().contains("paused"), "{error}");
    }
}
