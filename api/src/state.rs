//! What every handler can reach.

use std::sync::Arc;

use engine::commands::CommandService;
use engine::executor::Executor;
use engine::store::EventStore;
use projections::{ProjectionRuntime, ReadModels};

use crate::metrics::Metrics;
use crate::settings::Settings;

/// Shared application state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub commands: CommandService,
    pub store: Arc<dyn EventStore>,
    pub read: ReadModels,
    pub runtime: Arc<ProjectionRuntime>,
    pub executor: Option<Executor>,
    pub metrics: Arc<Metrics>,
    pub settings: Arc<Settings>,
}
