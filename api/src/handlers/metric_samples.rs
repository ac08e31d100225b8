//! `/v1/metrics`: metric samples in (a batch, validated, checked against the read models,
//! stored with its rollups) and out (a page of samples newest first, or a series).

use std::collections::BTreeSet;

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use engine::domain::{Cluster, ClusterId, Droplet, DropletId, DropletStatus};
use engine::fold::load;
use engine::metrics::{
    KeyedBatch, MetricSample, MetricType, SampleFilter, SamplePageRequest, SampleStart, SeriesQuery,
};
use projections::metric_refs::{sample_refs, DropletRef, SampleRefs};
use projections::{Cursor, Page, PageRequest, DEFAULT_COUNT_BOUND};
use warp::http::StatusCode;
use warp::reply::Response;

use super::typed;
use crate::errors::ApiError;
use crate::filters::common::RequestMeta;
use crate::models::bodies::parse;
use crate::models::metric_samples::{
    judge, validate, FieldErrors, IngestBody, IngestReply, MetricSampleView, RawBatch,
    RejectedSample, SeriesPointView, SeriesView, Verdict, Window, MAX_POINTS,
};
use crate::models::Params;
use crate::schemas::openapi::common::{
    BadRequest, BodyProblems, CommandHeaders, Conflict, Internal, Unprocessable,
};
use crate::state::AppState;

/// The list's one order (newest first).
const SORTABLE: [&str; 1] = ["timestamp"];

/// The filters of `GET /v1/metrics`.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MetricsQuery {
    /// Only this cluster's samples.
    pub cluster_id: Option<String>,
    /// Only this droplet's samples.
    pub droplet_id: Option<String>,
    /// `cpu`, `memory`, `disk` or `network` (required with `step`).
    #[param(rename = "type", pattern = "^(cpu|memory|disk|network)$")]
    pub metric_type: Option<String>,
    /// From this time on (RFC 3339; with `step`, default an hour before `until`).
    pub since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339; with `step`, default now).
    pub until: Option<DateTime<Utc>>,
    /// Answer a series with a point per `step` seconds instead of a page (at most 2000
    /// points; a step of a minute or more must be whole minutes and reads the rollups).
    #[param(minimum = 1, maximum = 2592000)]
    pub step: Option<u32>,
    /// The page (ignored with `cursor`).
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 500)]
    pub page_size: Option<u32>,
    /// A page's `next_cursor`: the samples after its last one.
    pub cursor: Option<String>,
}

/// A page of samples or a series.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum MetricsAnswer {
    Page(Page<MetricSampleView>),
    Series(SeriesView),
}

/// `POST /v1/metrics`.
#[utoipa::path(
    post, path = "/v1/metrics", tag = "metrics", operation_id = "ingestMetrics",
    summary = "Store a batch of metric samples",
    description = "1 to 1000 samples. A malformed sample makes the whole batch a `422` naming \
    `samples[i].field` (nothing is stored); a sample whose cluster or droplet is gone or \
    unknown is left out and listed in `rejected` (all of them: `422`). With \
    `Idempotency-Key`, the batch is stored once: the same key and body answer the first \
    answer again, the same key with another body is a `409`.",
    params(CommandHeaders),
    request_body = IngestBody,
    responses(
        (status = 202, description = "The samples stored and those left out.", body = IngestReply),
        (status = 400, response = BadRequest),
        (status = 409, response = Conflict),
        (status = 500, response = Internal),
        BodyProblems,
    )
)]
pub async fn ingest(state: AppState, meta: RequestMeta, body: Bytes) -> Result<Response, ApiError> {
    let batch: RawBatch = parse(&body)?;
    let now = Utc::now();
    let window = Window {
        now,
        oldest: state.samples.retention.raw_horizon(now),
    };
    let samples = validate(&batch.samples, window).map_err(invalid)?;
    let (keep, rejected) = sort_out(&state, samples).await?;
    for gone in rejected.iter().filter(|r| r.field == "cluster_id") {
        state.metrics.forget_cluster_samples(&gone.cluster);
    }
    if keep.is_empty() {
        let errors = rejected
            .iter()
            .map(|r| {
                (
                    format!("samples[{}].{}", r.index, r.field),
                    r.detail.clone(),
                )
            })
            .collect();
        return Err(ApiError::Validation {
            detail: "no sample names a live cluster and droplet; nothing was stored".into(),
            errors,
        });
    }
    let rejected = rejected
        .into_iter()
        .map(|r| RejectedSample {
            index: r.index,
            field: r.field.into(),
            detail: r.detail,
        })
        .collect();
    let reply = IngestReply {
        accepted: keep.len() as u64,
        rejected,
    };
    match meta.context(&body).idempotency {
        None => {
            state.samples.store.insert(&keep).await?;
        }
        Some(idempotency) => {
            let batch = KeyedBatch {
                key: idempotency.key,
                fingerprint: idempotency.fingerprint,
                reply: serde_json::to_string(&reply).map_err(ApiError::Serialise)?,
            };
            if let Some(first) = state.samples.store.insert_once(&keep, &batch).await? {
                return replay(first, &batch);
            }
        }
    }
    state.metrics.observe_samples(&keep);
    typed(StatusCode::ACCEPTED, &reply)
}

/// The first answer to a batch sent again under its idempotency key; the same key with
/// another body is a `409`.
fn replay(first: KeyedBatch, again: &KeyedBatch) -> Result<Response, ApiError> {
    if first.fingerprint != again.fingerprint {
        return Err(ApiError::Conflict(format!(
            "idempotency key {} was already used with a different request",
            first.key
        )));
    }
    let reply: serde_json::Value =
        serde_json::from_str(&first.reply).map_err(ApiError::Serialise)?;
    typed(StatusCode::ACCEPTED, &reply)
}

fn invalid(errors: FieldErrors) -> ApiError {
    ApiError::Validation {
        detail: format!(
            "{} invalid field(s) in the batch; nothing was stored",
            errors.len()
        ),
        errors,
    }
}

/// A sample left out, and its cluster (whose gauge series go).
struct Left {
    index: usize,
    cluster: String,
    field: &'static str,
    detail: String,
}

/// The samples to store and those left out, from one read-model query for the batch's
/// distinct ids; a droplet of another cluster makes the batch a `422`.
async fn sort_out(
    state: &AppState,
    samples: Vec<MetricSample>,
) -> Result<(Vec<MetricSample>, Vec<Left>), ApiError> {
    let clusters: BTreeSet<String> = samples.iter().map(|s| s.cluster_id.to_string()).collect();
    let droplets: BTreeSet<String> = samples
        .iter()
        .filter_map(|s| s.droplet_id.as_ref().map(ToString::to_string))
        .collect();
    let clusters: Vec<String> = clusters.into_iter().collect();
    let droplets: Vec<String> = droplets.into_iter().collect();
    let mut refs = sample_refs(&state.samples.db, &clusters, &droplets).await?;
    complete_from_log(state, &clusters, &droplets, &mut refs).await?;
    let (mut keep, mut left, mut errors) = (Vec::new(), Vec::new(), FieldErrors::new());
    for (index, sample) in samples.into_iter().enumerate() {
        match judge(&sample, &refs) {
            Verdict::Keep => keep.push(sample),
            Verdict::Reject(field, detail) => left.push(Left {
                index,
                cluster: sample.cluster_id.to_string(),
                field,
                detail,
            }),
            Verdict::Invalid(field, detail) => {
                errors.insert(format!("samples[{index}].{field}"), detail);
            }
        }
    }
    match errors.is_empty() {
        true => Ok((keep, left)),
        false => Err(invalid(errors)),
    }
}

/// Adds to `refs` the clusters and droplets the read models do not have yet but the log
/// does (made a moment ago: the read models follow the log within milliseconds), so a
/// client that creates a cluster and sends its first samples at once is not refused.
/// Only the ids the read models missed are folded, which is rare.
async fn complete_from_log(
    state: &AppState,
    clusters: &[String],
    droplets: &[String],
    refs: &mut SampleRefs,
) -> Result<(), ApiError> {
    let missing: Vec<&String> = clusters
        .iter()
        .filter(|id| !refs.live_clusters.contains(*id))
        .collect();
    for id in missing {
        let cluster = load::<Cluster>(&*state.store, id, None).await?;
        if cluster.state.is_live() {
            refs.live_clusters.insert(id.clone());
        }
    }
    let missing: Vec<&String> = droplets
        .iter()
        .filter(|id| !refs.droplets.contains_key(*id))
        .collect();
    for id in missing {
        let droplet = load::<Droplet>(&*state.store, id, None).await?;
        if let Some(cluster_id) = &droplet.state.cluster_id {
            let destroyed = droplet.state.status == DropletStatus::Destroyed;
            let found = DropletRef {
                cluster_id: cluster_id.to_string(),
                destroyed,
            };
            refs.droplets.insert(id.clone(), found);
        }
    }
    Ok(())
}

/// `GET /v1/metrics`.
#[utoipa::path(
    get, path = "/v1/metrics", tag = "metrics", operation_id = "listMetrics",
    summary = "List metric samples, or a series of them",
    description = "Without `step`: a page of samples, newest first. With `step` (and `type`): \
    a series `{type, unit, step, since, until, points}`, oldest point first.",
    params(MetricsQuery),
    responses(
        (status = 200, description = "A page of samples, or a series with `step`.", body = MetricsAnswer),
        (status = 400, response = BadRequest),
        (status = 422, response = Unprocessable),
        (status = 500, response = Internal),
    )
)]
pub async fn list(
    state: AppState,
    _meta: RequestMeta,
    params: Params,
) -> Result<Response, ApiError> {
    let filter = filter(&params)?;
    match params.int("step", 1, 30 * 86_400)? {
        Some(step) => series(&state, filter, step as u32).await,
        None => page(&state, filter, &params).await,
    }
}

fn filter(params: &Params) -> Result<SampleFilter, ApiError> {
    let id =
        |name: &str, check: fn(&str) -> Result<(), String>| -> Result<Option<String>, ApiError> {
            match params.text(name) {
                None => Ok(None),
                Some(raw) => check(&raw)
                    .map(|()| Some(raw))
                    .map_err(|m| ApiError::bad_field(name, m)),
            }
        };
    Ok(SampleFilter {
        cluster_id: id("cluster_id", |raw| {
            ClusterId::parse(raw).map(drop).map_err(|e| e.message)
        })?,
        droplet_id: id("droplet_id", |raw| {
            DropletId::parse(raw).map(drop).map_err(|e| e.message)
        })?,
        metric_type: params
            .text("type")
            .map(|raw| MetricType::parse(&raw).map_err(|e| ApiError::bad_field("type", e.message)))
            .transpose()?,
        since: time(params, "since")?,
        until: time(params, "until")?,
    })
}

fn time(params: &Params, name: &str) -> Result<Option<DateTime<Utc>>, ApiError> {
    params
        .text(name)
        .map(|raw| {
            DateTime::parse_from_rfc3339(&raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| ApiError::bad_field(name, format!("{name} must be an RFC 3339 time")))
        })
        .transpose()
}

async fn page(
    state: &AppState,
    filter: SampleFilter,
    params: &Params,
) -> Result<Response, ApiError> {
    let request = params.page(&SORTABLE, true)?;
    if !request.descending {
        return Err(ApiError::bad_field(
            "sort_dir",
            "the samples are listed newest first (desc)",
        ));
    }
    let start = start_of(&request)?;
    let page_request = SamplePageRequest {
        start,
        page_size: request.page_size,
        count_bound: DEFAULT_COUNT_BOUND,
    };
    let found = state.samples.store.list(&filter, &page_request).await?;
    let next_cursor = match (found.more, found.items.last()) {
        (true, Some(last)) => Some(
            Cursor {
                sort_by: SORTABLE[0].into(),
                descending: true,
                key: last.sample.timestamp.timestamp_micros().to_string(),
                id: last.id.to_string(),
            }
            .encode()
            .map_err(ApiError::Serialise)?,
        ),
        _ => None,
    };
    let answer = Page {
        items: found
            .items
            .iter()
            .map(|s| MetricSampleView::from(&s.sample))
            .collect(),
        page: matches!(start, SampleStart::Page(_)).then_some(request.page),
        page_size: request.page_size,
        total: found.total,
        total_is_estimate: found.total_is_estimate,
        next_cursor,
    };
    super::ok(&answer)
}

fn start_of(request: &PageRequest) -> Result<SampleStart, ApiError> {
    let Some(cursor) = &request.cursor else {
        return Ok(SampleStart::Page(request.page));
    };
    let bad = || {
        ApiError::bad_field(
            "cursor",
            "cursor is malformed; pass the next_cursor of a list answer",
        )
    };
    Ok(SampleStart::After {
        ts: cursor.key.parse().map_err(|_| bad())?,
        id: cursor.id.parse().map_err(|_| bad())?,
    })
}

async fn series(state: &AppState, filter: SampleFilter, step: u32) -> Result<Response, ApiError> {
    let Some(metric_type) = filter.metric_type else {
        return Err(ApiError::invalid_field(
            "type",
            "a series (step) needs a type",
        ));
    };
    if step >= 60 && !step.is_multiple_of(60) {
        return Err(ApiError::invalid_field(
            "step",
            "a step of a minute or more must be a whole number of minutes",
        ));
    }
    let until = filter.until.unwrap_or_else(Utc::now);
    let since = filter.since.unwrap_or(until - Duration::hours(1));
    if since >= until {
        return Err(ApiError::invalid_field(
            "since",
            "since must be before until",
        ));
    }
    let points = (until - since).num_seconds().div_euclid(i64::from(step)) + 1;
    if points > MAX_POINTS {
        return Err(ApiError::invalid_field(
            "step",
            format!("{points} points; at most {MAX_POINTS}: widen step or narrow since/until"),
        ));
    }
    let query = SeriesQuery {
        cluster_id: filter
            .cluster_id
            .as_deref()
            .map(ClusterId::parse)
            .transpose()
            .ok()
            .flatten(),
        droplet_id: filter
            .droplet_id
            .as_deref()
            .map(DropletId::parse)
            .transpose()
            .ok()
            .flatten(),
        metric_type,
        since,
        until,
        step_seconds: step,
    };
    let points = state.samples.store.series(&query).await?;
    super::ok(&SeriesView {
        metric_type: metric_type.as_str().into(),
        unit: metric_type.unit().into(),
        step,
        since,
        until,
        points: points
            .into_iter()
            .map(|p| SeriesPointView {
                t: p.t,
                avg: p.avg,
                min: p.min,
                max: p.max,
                count: p.count,
            })
            .collect(),
    })
}
