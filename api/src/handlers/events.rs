//! The log: `/v1/events`, `/v1/events/stream` (SSE) and `/v1/streams/{type}/{id}`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use engine::store::{EventFilter, RecordedEvent};
use futures::{Stream, StreamExt};
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use warp::reply::Response;
use warp::sse::Event;
use warp::Reply;

use super::{not_found, ok};
use crate::errors::ApiError;
use crate::metrics::Metrics;
use crate::models::replies::{AggregateStream, EventPage};
use crate::models::Params;
use crate::schemas::openapi::common::{one_of, BadRequest, Internal, NotFound};
use crate::state::AppState;

/// The aggregate types of the log.
pub const AGGREGATE_TYPES: [&str; 8] = [
    "cluster",
    "droplet",
    "job",
    "diagnosis",
    "deployment",
    "provider",
    "ratelimit_rule",
    "autoscaler",
];

/// The filters of the log's reads.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    #[param(schema_with = aggregate_types)]
    pub aggregate_type: Option<String>,
    /// Only the events of this aggregate.
    pub aggregate_id: Option<String>,
    /// Only events of this type, e.g. `cluster.created`.
    pub r#type: Option<String>,
    /// Only the events recorded for this actor (`metadata.actor`: the `X-User-Id` of the
    /// command, `anonymous` without one). At most 255 characters.
    #[param(max_length = 255)]
    pub actor: Option<String>,
    /// Only the events of this correlation id (`metadata.correlation_id`: the `X-Request-Id`
    /// of the command), across aggregates: one request's events. At most 255 characters.
    #[param(max_length = 255)]
    pub correlation_id: Option<String>,
}

/// The longest `actor` and `correlation_id` filter: longer ones are never recorded (an
/// `X-User-Id` or `X-Request-Id` is at most 200 characters, a command topic's `ce_id`
/// 255), so a longer value is a mistake, answered `400` rather than an empty page.
pub const MAX_METADATA_FILTER_LEN: usize = 255;

/// Where a live tail resumes.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Header)]
pub struct LastEventId {
    /// Resume after this position (the `id` of the last message received; wins over
    /// `after`).
    #[param(rename = "Last-Event-ID", required = false)]
    pub last_event_id: i64,
}

fn aggregate_types() -> utoipa::openapi::schema::Object {
    one_of(&AGGREGATE_TYPES, "Only the events of this aggregate type.")
}

fn filter(params: &Params) -> Result<EventFilter, ApiError> {
    Ok(EventFilter {
        aggregate_type: params
            .one_of("aggregate_type", &AGGREGATE_TYPES)?
            .map(str::to_owned),
        aggregate_id: params.text("aggregate_id"),
        event_type: params.text("type"),
        actor: metadata_filter(params, "actor")?,
        correlation_id: metadata_filter(params, "correlation_id")?,
    })
}

fn metadata_filter(params: &Params, name: &str) -> Result<Option<String>, ApiError> {
    match params.text(name) {
        Some(value) if value.chars().count() > MAX_METADATA_FILTER_LEN => Err(ApiError::bad_field(
            name,
            format!("{name} is at most {MAX_METADATA_FILTER_LEN} characters"),
        )),
        value => Ok(value),
    }
}

/// `GET /v1/events?after|before&limit&aggregate_type&aggregate_id&type&actor&correlation_id`.
#[utoipa::path(
    get, path = "/v1/events", tag = "events", operation_id = "listEvents",
    summary = "Read the log",
    description = "Forward (the default): the events after `after`, oldest first; `next_after` \
reads on. Back, with `before`: the events before that position, newest first; `next_before` \
reads on towards the start (a `before` above the head, e.g. `9007199254740991`, reads from the \
newest event). `after` and `before` cannot be combined (`400`). Every filter, alone or \
combined, is served by an index of the log, in both directions.",
    params(
        ("after" = Option<i64>, Query, minimum = 0, description = "Events after this position (default 0)."),
        ("before" = Option<i64>, Query, minimum = 1, description = "Events before this position (exclusive), newest first."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "At most this many events (default 100)."),
        Filter,
    ),
    responses(
        (status = 200, description = "Events in position order (newest first with `before`).", body = EventPage),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    )
)]
pub async fn list(state: AppState, params: Params) -> Result<Response, ApiError> {
    let after = params.int("after", 0, i64::MAX)?;
    let before = params.int("before", 1, i64::MAX)?;
    let limit = params.int("limit", 1, 1000)?.unwrap_or(100);
    let filter = filter(&params)?;
    match (after, before) {
        (Some(_), Some(_)) => Err(ApiError::bad_field(
            "before",
            "after and before cannot be combined: read forward with after, or back with before",
        )),
        (_, Some(before)) => {
            let items = state.store.read_before(before, limit, &filter).await?;
            // Newest first: reading on goes before the oldest event read; forward, after
            // the newest (the events between it and `before` do not match).
            let next_before = items.last().map_or(before, |e| e.position);
            let next_after = items.first().map_or(before - 1, |e| e.position);
            ok(&EventPage {
                items,
                next_after,
                next_before: Some(next_before),
            })
        }
        (after, None) => {
            let after = after.unwrap_or(0);
            let items = state.store.read_all(after, limit, &filter).await?;
            // With a filter, a short page does not mean the end: continue after the last
            // event read.
            let next_after = items.last().map_or(after, |e| e.position);
            ok(&EventPage {
                items,
                next_after,
                next_before: None,
            })
        }
    }
}

/// `GET /v1/streams/{aggregate_type}/{id}`.
#[utoipa::path(
    get, path = "/v1/streams/{aggregate_type}/{id}", tag = "events", operation_id = "getStream",
    summary = "One aggregate's events, in order",
    params(
        ("aggregate_type" = String, Path, description = "`cluster`, `droplet`, `job`, `provider` or `ratelimit_rule` (another is a `404`)."),
        ("id" = String, Path, description = "The aggregate id."),
    ),
    responses(
        (status = 200, description = "The stream.", body = AggregateStream,
            headers(("ETag" = String, description = "The stream's version, quoted."))),
        (status = 404, response = NotFound),
        (status = 500, response = Internal),
    )
)]
pub async fn stream_of(
    state: AppState,
    aggregate_type: String,
    id: String,
) -> Result<Response, ApiError> {
    if !AGGREGATE_TYPES.contains(&aggregate_type.as_str()) {
        return Err(not_found("aggregate type", &aggregate_type));
    }
    let items = state.store.read_stream(&aggregate_type, &id, None).await?;
    if items.is_empty() {
        return Err(not_found("stream", &format!("{aggregate_type}/{id}")));
    }
    ok(&AggregateStream {
        version: items.last().map_or(0, |e| e.sequence),
        aggregate_type,
        aggregate_id: id,
        items,
    })
}

/// `GET /v1/events/stream`: the live tail as Server-Sent Events, resumable with
/// `Last-Event-ID` (or `?after=`), else starting at the head.
#[utoipa::path(
    get, path = "/v1/events/stream", tag = "events", operation_id = "streamEvents",
    summary = "The live tail of the log (Server-Sent Events)",
    description = "Each message is one event: `id` its position, `event` its type, `data` \
the event as JSON (as in `GET /v1/events`). Heartbeat comments every 15 s. A client that \
stops reading for a while, and every client when the server shuts down, gets a `disconnect` \
event with the reason (`slow client` or `shutdown`) and the last position it was sent \
(`last_event_id`), and the stream ends: resume with `Last-Event-ID` (here or, after a \
shutdown, on another instance).",
    params(
        LastEventId,
        ("after" = Option<i64>, Query, minimum = 0, description = "Start after this position (default: the head, new events only)."),
        Filter,
    ),
    responses(
        (status = 200, description = "The stream, until the client leaves.", body = String, content_type = "text/event-stream"),
        (status = 400, response = BadRequest),
        (status = 500, response = Internal),
    )
)]
pub async fn live(
    state: AppState,
    params: Params,
    last_event_id: Option<String>,
) -> Result<Response, ApiError> {
    let filter = filter(&params)?;
    let resume = match last_event_id {
        Some(raw) => Some(
            raw.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::bad_field("last-event-id", "must be a log position"))?,
        ),
        None => params.int("after", 0, i64::MAX)?,
    };
    let after = match resume {
        Some(after) => after,
        None => state.store.head().await?,
    };
    let stream = tail(state, after, filter);
    let sse = warp::sse::reply(
        warp::sse::keep_alive()
            .interval(Duration::from_secs(15))
            .text("heartbeat")
            .stream(stream),
    );
    Ok(sse.into_response())
}

/// What a live tail may hold for one client, in bytes of serialised events (at least one
/// event, however large): a slow client costs the server this much, not a count of events
/// of any size.
const TAIL_BUFFER_BYTES: usize = 1 << 20;

/// Follows the log from `after` in a task of its own, handing matching events to the
/// response through a buffer bounded in bytes ([`TAIL_BUFFER_BYTES`]): a slow client fills
/// it and the task waits (no unbounded buffer); a client that does not take its buffered
/// bytes for `sse_slow_client_ms` is let go: once it has read what is buffered, it gets a
/// `disconnect` event naming the last position it was sent (resume with `Last-Event-ID`),
/// and the stream ends. When the server starts shutting down, every tail ends the same
/// way (reason `shutdown`, with a one-second reconnection hint), so open streams never hold
/// the shutdown up. A gone client closes the channel and the task ends.
fn tail(
    state: AppState,
    after: i64,
    filter: EventFilter,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + Sync {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<(Event, OwnedSemaphorePermit)>();
    let (gave_up, reason) = tokio::sync::oneshot::channel::<(Farewell, i64)>();
    let mut draining = state.draining.clone();
    let patience = Duration::from_millis(state.settings.sse_slow_client_ms);
    let budget = Arc::new(Semaphore::new(TAIL_BUFFER_BYTES));
    tokio::spawn(async move {
        let _open = OpenTail::new(&state);
        let mut head = state.store.watch_head();
        let mut after = after;
        let mut sent = after;
        loop {
            // Shutting down (or the server is gone altogether).
            let ending = draining.has_changed().is_err() || *draining.borrow();
            if ending {
                let _ = gave_up.send((Farewell::Shutdown, sent));
                return;
            }
            match state
                .store
                .read_all(after, 200, &EventFilter::default())
                .await
            {
                Ok(batch) if !batch.is_empty() => {
                    // Advance past every event read; send only those that match.
                    after = batch.last().map_or(after, |e| e.position);
                    for event in batch.into_iter().filter(|e| filter.matches(e)) {
                        let (message, size) = match sse_event(&event) {
                            Ok(sse) => sse,
                            Err(error) => {
                                // Skipping it would leave a silent hole in the tail: end
                                // the stream instead (the client resumes from `sent`).
                                tracing::error!(position = event.position, %error, "could not serialise an event; ending the live tail");
                                return;
                            }
                        };
                        let cost = u32::try_from(size.clamp(1, TAIL_BUFFER_BYTES)).unwrap_or(1);
                        let room = budget.clone().acquire_many_owned(cost);
                        match tokio::time::timeout(patience, room).await {
                            Ok(Ok(permit)) => {
                                if tx.send((message, permit)).is_err() {
                                    return;
                                }
                                sent = event.position;
                            }
                            Ok(Err(_)) => return,
                            Err(_) => {
                                tracing::info!(
                                    last_sent = sent,
                                    "live tail: client too slow, disconnecting"
                                );
                                state.metrics.live_tail_slow_client();
                                let _ = gave_up.send((Farewell::SlowClient, sent));
                                return;
                            }
                        }
                    }
                }
                Ok(_) => {
                    tokio::select! {
                        changed = head.changed() => {
                            if changed.is_err() {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                        }
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        () = async { let _ = draining.wait_for(|d| *d).await; } => {}
                        _ = tx.closed() => return,
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "live tail could not read the log");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    // The permit goes back to the budget as the response takes the event.
    let events = tokio_stream::wrappers::UnboundedReceiverStream::new(rx)
        .map(|(message, _permit)| Ok(message));
    // After the buffered events: a disconnect notice if the tail let this client go.
    let farewell = futures::stream::once(reason).filter_map(|outcome| async move {
        outcome
            .ok()
            .map(|(why, last_sent)| Ok(why.event(last_sent)))
    });
    events.chain(farewell)
}

/// Why a live tail let its client go.
#[derive(Debug, Clone, Copy)]
enum Farewell {
    SlowClient,
    Shutdown,
}

impl Farewell {
    /// The `disconnect` event naming the reason and the last position sent.
    fn event(self, last_sent: i64) -> Event {
        let reason = match self {
            Self::SlowClient => "slow client",
            Self::Shutdown => "shutdown",
        };
        let event = Event::default()
            .event("disconnect")
            .data(json!({ "reason": reason, "last_event_id": last_sent.to_string() }).to_string());
        match self {
            // Come back soon, to whichever instance answers.
            Self::Shutdown => event.retry(Duration::from_secs(1)),
            Self::SlowClient => event,
        }
    }
}

/// Counts a live tail in `clustergenie_live_tails_open` while it lives.
struct OpenTail(Arc<Metrics>);

impl OpenTail {
    fn new(state: &AppState) -> Self {
        state.metrics.live_tail(true);
        Self(state.metrics.clone())
    }
}

impl Drop for OpenTail {
    fn drop(&mut self) {
        self.0.live_tail(false);
    }
}

/// The SSE message for one event, and the size of its data.
fn sse_event(event: &RecordedEvent) -> Result<(Event, usize), serde_json::Error> {
    let data = serde_json::to_string(event)?;
    let size = data.len();
    let message = Event::default()
        .id(event.position.to_string())
        .event(event.event_type.clone())
        .data(data);
    Ok((message, size))
}
