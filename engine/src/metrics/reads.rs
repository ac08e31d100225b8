//! What the stores offer beyond [`MetricsStore`]: the paged list of raw samples behind
//! `GET /v1/metrics`, and retention's batched expiry ([`SampleStore`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{MetricSample, MetricType, MetricsError, MetricsStore};

/// Filters of the sample list; `since` inclusive, `until` exclusive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SampleFilter {
    pub cluster_id: Option<String>,
    pub droplet_id: Option<String>,
    pub metric_type: Option<MetricType>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Where a page of the list starts: a page number, or after a row (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleStart {
    /// Skip `page - 1` pages (the first page is 1) and count the list (bounded).
    Page(u32),
    /// The rows older than this one (`ts` in microseconds, then the row's id), uncounted.
    After { ts: i64, id: i64 },
}

/// One page request of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SamplePageRequest {
    pub start: SampleStart,
    pub page_size: u32,
    /// `total` is exact up to this many rows, an estimate (the bound) above it.
    pub count_bound: i64,
}

/// A stored sample and its row id (the cursor's tie-breaker).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSample {
    pub id: i64,
    pub sample: MetricSample,
}

/// A page of the list, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplePage {
    pub items: Vec<StoredSample>,
    /// Whether rows follow the last item.
    pub more: bool,
    /// The bounded count (`None` on a page started after a row).
    pub total: Option<i64>,
    pub total_is_estimate: bool,
}

/// A batch's idempotency key, the digest of its request and its answer (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedBatch {
    pub key: String,
    pub fingerprint: String,
    pub reply: String,
}

/// How many rows one retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expired {
    pub samples: u64,
    pub rollups: u64,
}

/// A metrics store with the list and retention (both backends implement it).
#[async_trait]
pub trait SampleStore: MetricsStore {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;

    /// A page of raw samples, newest first (`ts`, then row id, descending).
    async fn list(
        &self,
        filter: &SampleFilter,
        page: &SamplePageRequest,
    ) -> Result<SamplePage, MetricsError>;

    /// Stores samples under an idempotency key, at most once: in one transaction, claims
    /// `batch.key` and stores the samples. When the key was claimed before, nothing is
    /// stored and the first batch's digest and answer come back.
    async fn insert_once(
        &self,
        samples: &[MetricSample],
        batch: &KeyedBatch,
    ) -> Result<Option<KeyedBatch>, MetricsError>;

    /// Deletes raw samples older than `samples_before` and rollups of minutes older than
    /// `rollups_before`, `batch` rows per statement (short transactions, short locks).
    async fn expire(
        &self,
        samples_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        batch: u32,
    ) -> Result<Expired, MetricsError>;
}
