//! The [`ReadCache`] trait both backends implement, and the shapes it stores.
//!
//! A cache holds *records*: per entity, the rendered view (JSON), the folded state needed
//! to keep applying events (JSON) and the position of the last event the record reflects.
//! A record is only ever replaced by one at a later position, so writes are idempotent
//! and never go backwards. The cache also holds its own *checkpoint*: a generation id
//! (`epoch`) and the position up to which every event of the log has been applied in that
//! generation, and which event log it follows (the id of the log's first event). A cache
//! that lost its data (flushed, restarted empty) has no checkpoint, which is how a runner
//! notices that it must heal the cache from the log.
//!
//! Every record also carries the generation it was written in, and a record of another
//! generation counts as absent for reads, folds and writes alike. So keys that outlive
//! their checkpoint (a flush that deleted keys one by one while a runner wrote, a reset
//! after an inconsistency or for another log) cannot be mistaken for the new
//! generation's: a runner healing from the log would otherwise skip events such a record
//! already reflects and leave them out of the summaries it folds anew.

use std::fmt;

use async_trait::async_trait;

use super::CacheError;

/// Which read model a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// [`engine::views::ClusterView`] (`null` once deleted), state `Loaded<Cluster>`.
    Cluster,
    /// [`engine::views::DropletView`] without `cluster_name`, state `Loaded<Droplet>`.
    Droplet,
    /// [`engine::views::JobView`], state `Loaded<Job>`.
    Job,
    /// [`super::ClusterSummary`] (`null` once deleted), state its fold.
    Summary,
    /// A cluster's current name (also once deleted), joined into droplet views.
    ClusterName,
}

impl Kind {
    /// The name used in keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cluster => "cluster",
            Self::Droplet => "droplet",
            Self::Job => "job",
            Self::Summary => "summary",
            Self::ClusterName => "cluster_name",
        }
    }
}

/// Names one record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordKey {
    pub kind: Kind,
    pub id: String,
}

impl RecordKey {
    /// The record of `kind` for `id`.
    pub fn new(kind: Kind, id: impl Into<String>) -> Self {
        Self {
            kind,
            id: id.into(),
        }
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.id)
    }
}

/// One record as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Position of the last event the record reflects.
    pub position: i64,
    /// The rendered view (JSON text; `null` for a resource that is gone).
    pub view: String,
    /// The fold to apply further events to (JSON text).
    pub state: String,
}

/// A record's fold, as read back for applying further events.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredState {
    pub position: i64,
    pub state: String,
}

/// A record's view, as read for an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredView {
    pub position: i64,
    pub view: String,
}

/// The cache's own checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The generation: a new one starts whenever the cache is found empty.
    pub epoch: String,
    /// Every event up to here has been applied in this generation.
    pub position: i64,
    /// The event log the cache follows: the id of its first event (empty while the log
    /// is), so that a cache shared by mistake with another deployment is not read.
    pub log: String,
}

impl Checkpoint {
    /// A new generation of the cache of `log`, at position 0.
    pub fn fresh(log: &str) -> Self {
        Self {
            epoch: uuid::Uuid::new_v4().simple().to_string(),
            position: 0,
            log: log.to_owned(),
        }
    }
}

/// What a guarded write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Applied (records already at a later position were left alone).
    Applied,
    /// Refused: the cache is no longer in the writer's generation (it was flushed,
    /// restarted or reset); the writer must start over.
    Lost,
}

/// What an in-process cache holds, against its size budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheUsage {
    /// Records held.
    pub records: u64,
    /// Their approximate size in memory (key, view, fold and a fixed overhead each).
    pub bytes: u64,
    /// The most `bytes` may reach before the least recently used records are dropped.
    pub budget_bytes: u64,
    /// Records dropped to stay within the budget since the cache was made.
    pub evictions: u64,
}

/// Views read together with the checkpoint, as one consistent snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewsRead {
    pub checkpoint: Option<Checkpoint>,
    /// One entry per key asked for, in order.
    pub views: Vec<Option<StoredView>>,
}

/// Storage of the cache read models: Redis, or an in-process map.
#[async_trait]
pub trait ReadCache: Send + Sync + 'static {
    /// `redis` or `in-memory`.
    fn backend(&self) -> &'static str;

    /// True when the cache drops records on its own (to stay within a size budget)
    /// while keeping its checkpoint: a record it lacks may then have been evicted rather
    /// than never written, and the runner refolds it from the log instead of taking the
    /// hole for lost data (see `fold.rs`).
    fn evicts(&self) -> bool {
        false
    }

    /// What the cache holds, when it keeps count (the in-process cache does).
    fn usage(&self) -> Option<CacheUsage> {
        None
    }

    /// Checks that the cache answers.
    async fn ping(&self) -> Result<(), CacheError>;

    /// The checkpoint, or None when the cache holds none (empty, flushed, restarted).
    async fn checkpoint(&self) -> Result<Option<Checkpoint>, CacheError>;

    /// Joins the current generation, or opens `fresh` if the cache has no checkpoint
    /// (atomically: of several callers, one opens and the others join).
    async fn begin(&self, fresh: &Checkpoint) -> Result<Checkpoint, CacheError>;

    /// Starts generation `fresh` whatever the cache holds (after an inconsistency, or for
    /// another log): every runner in another generation gets [`Written::Lost`].
    async fn reset(&self, fresh: &Checkpoint) -> Result<(), CacheError>;

    /// The folds of `keys` (None where there is no record).
    async fn states(&self, keys: &[RecordKey]) -> Result<Vec<Option<StoredState>>, CacheError>;

    /// Writes `records` in order, each only if newer than what the cache holds, then
    /// raises the checkpoint to `checkpoint` (if given); all of it only while the cache
    /// is in generation `epoch`.
    async fn write(
        &self,
        epoch: &str,
        records: &[(RecordKey, Record)],
        checkpoint: Option<i64>,
    ) -> Result<Written, CacheError>;

    /// The views of `keys` and the checkpoint, read at one instant.
    async fn views(&self, keys: &[RecordKey]) -> Result<ViewsRead, CacheError>;
}
