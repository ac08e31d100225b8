//! Reading answers from the cache: a view is used only while the runner is ready, the
//! cache's checkpoint (read in the same snapshot as the view) is at least where the runner
//! last saw it, where the SQL read models are and where the request asked for, and the
//! record is no newer than the SQL read models. Such a record is the resource as of the
//! SQL read models' position: the cache is a faster path to what SQL would show, never
//! ahead of the lists (which SQL answers) and never behind them. Anything else is a
//! [`Lookup::Fallback`] and the caller answers from SQL.

use std::sync::Arc;

use engine::views::{ClusterView, DropletView, JobView};
use serde::de::DeserializeOwned;

use super::backend::{Kind, ReadCache, RecordKey, StoredView};
use super::runner::CacheHandle;
use super::summary::ClusterSummary;
use super::CacheError;

/// Why an answer did not come from the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// The runner is not ready (healing, down) or the cache lost its checkpoint.
    NotReady,
    /// The cache has not reached the position the request needs.
    Behind,
    /// The record has events the SQL read models have not all applied yet.
    Ahead,
    /// The cache holds no record for the id.
    Miss,
}

impl Fallback {
    /// A metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotReady => "not_ready",
            Self::Behind => "behind",
            Self::Ahead => "ahead",
            Self::Miss => "miss",
        }
    }
}

/// An answer from the cache (`Hit(None)`: the resource is gone), or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<T> {
    Hit(T),
    Fallback(Fallback),
}

/// Where an answer from the cache must stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The request's `min_position` (0 if none).
    pub min_position: i64,
    /// The position every SQL read model has reached.
    pub sql_position: i64,
}

/// Reads of the cache read models.
#[derive(Clone)]
pub struct CacheReads {
    cache: Arc<dyn ReadCache>,
    handle: CacheHandle,
}

impl CacheReads {
    /// Reads of `cache`, filled by the runner behind `handle`.
    pub fn new(cache: Arc<dyn ReadCache>, handle: CacheHandle) -> Self {
        Self { cache, handle }
    }

    /// The cache.
    pub fn cache(&self) -> &Arc<dyn ReadCache> {
        &self.cache
    }

    /// The runner's handle.
    pub fn handle(&self) -> &CacheHandle {
        &self.handle
    }

    /// A cluster (`Hit(None)` once deleted).
    pub async fn cluster(
        &self,
        id: &str,
        bounds: Bounds,
    ) -> Result<Lookup<Option<ClusterView>>, CacheError> {
        self.one(RecordKey::new(Kind::Cluster, id), bounds).await
    }

    /// A job.
    pub async fn job(
        &self,
        id: &str,
        bounds: Bounds,
    ) -> Result<Lookup<Option<JobView>>, CacheError> {
        self.one(RecordKey::new(Kind::Job, id), bounds).await
    }

    /// A cluster's summary (`Hit(None)` once deleted).
    pub async fn summary(
        &self,
        id: &str,
        bounds: Bounds,
    ) -> Result<Lookup<Option<ClusterSummary>>, CacheError> {
        self.one(RecordKey::new(Kind::Summary, id), bounds).await
    }

    /// A droplet, with its cluster's current name.
    pub async fn droplet(
        &self,
        id: &str,
        bounds: Bounds,
    ) -> Result<Lookup<Option<DropletView>>, CacheError> {
        let droplet = self
            .one::<DropletView>(RecordKey::new(Kind::Droplet, id), bounds)
            .await?;
        let Lookup::Hit(Some(mut droplet)) = droplet else {
            return Ok(droplet);
        };
        let name_key = RecordKey::new(Kind::ClusterName, droplet.cluster_id.clone());
        match self.one::<String>(name_key, bounds).await? {
            Lookup::Hit(name) => {
                droplet.cluster_name = name;
                Ok(Lookup::Hit(Some(droplet)))
            }
            Lookup::Fallback(why) => Ok(Lookup::Fallback(why)),
        }
    }

    async fn one<T: DeserializeOwned>(
        &self,
        key: RecordKey,
        bounds: Bounds,
    ) -> Result<Lookup<Option<T>>, CacheError> {
        if !self.handle.ready() {
            return Ok(Lookup::Fallback(Fallback::NotReady));
        }
        let needed = self
            .handle
            .position()
            .max(bounds.min_position)
            .max(bounds.sql_position);
        let read = self.cache.views(std::slice::from_ref(&key)).await?;
        // A checkpoint of another generation (another log, or a heal that this runner
        // has not joined yet) says nothing about the records this runner wrote.
        let Some(checkpoint) = read
            .checkpoint
            .filter(|c| Some(&c.epoch) == self.handle.epoch().as_ref())
        else {
            return Ok(Lookup::Fallback(Fallback::NotReady));
        };
        if checkpoint.position < needed {
            return Ok(Lookup::Fallback(Fallback::Behind));
        }
        match read.views.into_iter().next().flatten() {
            Some(StoredView { position, .. }) if position > bounds.sql_position => {
                Ok(Lookup::Fallback(Fallback::Ahead))
            }
            Some(StoredView { view, .. }) => Ok(Lookup::Hit(serde_json::from_str(&view)?)),
            None => Ok(Lookup::Fallback(Fallback::Miss)),
        }
    }
}
