//! The API's one error type and the single `recover` that renders every rejection as
//! `application/problem+json` (RFC 9457) and logs the whole cause chain.

use std::collections::BTreeMap;
use std::convert::Infallible;

use engine::commands::{CommandError, CommandErrorKind};
use projections::ProjectionError;
use serde::Serialize;
use warp::http::StatusCode;
use warp::reply::Response;
use warp::{Rejection, Reply};

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: BTreeMap<String, String>,
    },
    #[error("{detail}")]
    Validation {
        detail: String,
        errors: BTreeMap<String, String>,
    },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("the read models did not reach position {0} in time")]
    NotCaughtUp(i64),
    #[error("read side failure")]
    Projection(#[source] ProjectionError),
    #[error("event store failure")]
    Store(#[from] engine::store::StoreError),
    #[error("could not serialise the answer")]
    Serialise(#[source] serde_json::Error),
    #[error("metric samples store failure")]
    MetricSamples(#[from] engine::metrics::MetricsError),
    #[error("health check failure")]
    Health(#[source] engine::health::HealthError),
    #[error("auto-scaling failure")]
    Autoscaling(#[source] engine::autoscaling::AutoscalerError),
    #[error("could not render the metrics")]
    Metrics(#[source] prometheus::Error),
    #[error("rate limit {rule} ({scope} scope) exceeded; retry in {retry_after} s")]
    RateLimited {
        rule: String,
        scope: &'static str,
        /// `Retry-After` and the `RateLimit-*` headers of the answer.
        headers: Vec<(&'static str, String)>,
        retry_after: u64,
    },
}

impl warp::reject::Reject for ApiError {}

/// A fold that failed (time travel reads one) is answered as the command side answers it.
impl From<engine::fold::FoldError> for ApiError {
    fn from(error: engine::fold::FoldError) -> Self {
        Self::Command(error.into())
    }
}

/// A health check that failed: its store's or command's own answer.
impl From<engine::health::HealthError> for ApiError {
    fn from(error: engine::health::HealthError) -> Self {
        match error {
            engine::health::HealthError::Metrics(e) => Self::MetricSamples(e),
            engine::health::HealthError::Command(e) => Self::Command(e),
            error => Self::Health(error),
        }
    }
}

/// An auto-scaling evaluation that failed: its command's own answer, `409` for a cluster
/// without a policy.
impl From<engine::autoscaling::AutoscalerError> for ApiError {
    fn from(error: engine::autoscaling::AutoscalerError) -> Self {
        use engine::autoscaling::AutoscalerError as E;
        match error {
            E::Command(e) => Self::Command(e),
            E::NoPolicy(id) => Self::Conflict(format!(
                "cluster {id} has no auto-scaling policy; set one with PUT /v1/clusters/{id}/autoscaling"
            )),
            error => Self::Autoscaling(error),
        }
    }
}

impl From<ProjectionError> for ApiError {
    fn from(error: ProjectionError) -> Self {
        match error {
            ProjectionError::Timeout(_, position) => Self::NotCaughtUp(position),
            ProjectionError::UnknownDeadLetter(id) => Self::NotFound {
                what: "dead letter",
                id,
            },
            ProjectionError::UnknownProjection(id) => Self::NotFound {
                what: "projection",
                id,
            },
            error @ ProjectionError::RebuildRunning(_) => Self::Conflict(error.to_string()),
            other => Self::Projection(other),
        }
    }
}

impl ApiError {
    /// A 400 for malformed input naming one field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let errors = BTreeMap::from([(field.into(), message.clone())]);
        Self::BadRequest {
            detail: message,
            errors,
        }
    }

    /// A 422 for a value that breaks a rule, naming one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let message = message.into();
        let errors = BTreeMap::from([(field.into(), message.clone())]);
        Self::Validation {
            detail: message,
            errors,
        }
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Command(e) => match e.kind() {
                CommandErrorKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
                CommandErrorKind::NotFound => StatusCode::NOT_FOUND,
                CommandErrorKind::Conflict | CommandErrorKind::IdempotencyMismatch => {
                    StatusCode::CONFLICT
                }
                CommandErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
                CommandErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
                CommandErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
                CommandErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotCaughtUp(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Projection(_)
            | Self::Store(_)
            | Self::Serialise(_)
            | Self::Metrics(_)
            | Self::MetricSamples(_)
            | Self::Health(_)
            | Self::Autoscaling(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn errors(&self) -> Option<BTreeMap<String, String>> {
        match self {
            Self::BadRequest { errors, .. } | Self::Validation { errors, .. } => {
                Some(errors.clone())
            }
            Self::Command(e) => {
                let fields = e.fields();
                (!fields.is_empty())
                    .then(|| fields.into_iter().map(|(f, m)| (f.to_owned(), m)).collect())
            }
            _ => None,
        }
    }

    /// Headers the answer carries besides the problem's own.
    fn headers(&self) -> &[(&'static str, String)] {
        match self {
            Self::RateLimited { headers, .. } => headers.as_slice(),
            _ => &[],
        }
    }

    fn problem(&self) -> Problem {
        let status = self.status();
        // Only internal errors are hidden; 503 and 504 say what to wait for.
        let detail = if status == StatusCode::INTERNAL_SERVER_ERROR {
            "an internal error occurred; it has been logged".to_owned()
        } else {
            self.to_string()
        };
        Problem::new(status, detail, self.errors())
    }
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `urn:clustergenie:problem:<title in kebab case>`, e.g.
    /// `urn:clustergenie:problem:unprocessable-entity`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase, e.g. `Unprocessable Entity`.
    pub title: String,
    /// The HTTP status, as answered.
    pub status: u16,
    /// What went wrong (for a `500`, only that it was logged).
    pub detail: String,
    /// For bad or invalid input: field (a body field such as `name`, `body` for the body
    /// as a whole, a query parameter or a header name) -> message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<BTreeMap<String, String>>,
}

impl Problem {
    /// A problem for `status`.
    pub fn new(
        status: StatusCode,
        detail: String,
        errors: Option<BTreeMap<String, String>>,
    ) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let slug = title.to_lowercase().replace(' ', "-");
        Self {
            kind: format!("urn:clustergenie:problem:{slug}"),
            title,
            status: status.as_u16(),
            detail,
            errors,
        }
    }

    /// Renders as `application/problem+json`.
    pub fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let (status, body) = match serde_json::to_vec(&self) {
            Ok(body) => (status, body),
            Err(error) => {
                // A problem is strings and numbers: this is not expected to happen, but an
                // empty body would hide it, so it becomes a logged 500 with a fixed body.
                tracing::error!(error = %error, problem = ?self, "could not serialise a problem");
                (StatusCode::INTERNAL_SERVER_ERROR, UNSERIALISABLE.to_vec())
            }
        };
        let mut response = warp::reply::with_status(body, status).into_response();
        response.headers_mut().insert(
            warp::http::header::CONTENT_TYPE,
            warp::http::HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                warp::http::header::RETRY_AFTER,
                warp::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}

/// The problem answered when a problem cannot be serialised.
const UNSERIALISABLE: &[u8] = br#"{"type":"urn:clustergenie:problem:internal-server-error","title":"Internal Server Error","status":500,"detail":"an internal error occurred; it has been logged"}"#;

/// The one place rejections become responses.
pub async fn recover(rejection: Rejection) -> Result<Response, Infallible> {
    let mut extra: &[(&'static str, String)] = &[];
    let problem = if let Some(error) = rejection.find::<ApiError>() {
        extra = error.headers();
        let chain = projections::runtime::error_chain(error);
        if error.status().is_server_error() {
            tracing::error!(error = %chain, status = error.status().as_u16(), "request failed");
        } else {
            tracing::debug!(error = %chain, status = error.status().as_u16(), "request rejected");
        }
        error.problem()
    } else if rejection.is_not_found() {
        Problem::new(StatusCode::NOT_FOUND, "no such resource".into(), None)
    } else if let Some(e) = rejection.find::<warp::reject::PayloadTooLarge>() {
        Problem::new(StatusCode::PAYLOAD_TOO_LARGE, e.to_string(), None)
    } else if let Some(e) = rejection.find::<warp::reject::UnsupportedMediaType>() {
        Problem::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string(), None)
    } else if let Some(e) = rejection.find::<warp::reject::LengthRequired>() {
        Problem::new(StatusCode::LENGTH_REQUIRED, e.to_string(), None)
    } else if let Some(e) = rejection.find::<warp::reject::InvalidHeader>() {
        Problem::new(StatusCode::BAD_REQUEST, e.to_string(), None)
    } else if let Some(e) = rejection.find::<warp::reject::InvalidQuery>() {
        Problem::new(StatusCode::BAD_REQUEST, e.to_string(), None)
    } else if let Some(e) = rejection.find::<warp::reject::MethodNotAllowed>() {
        // Last: a route of the same path with another method always adds this one, even
        // when the route with the right method rejected the request for a better reason.
        Problem::new(StatusCode::METHOD_NOT_ALLOWED, e.to_string(), None)
    } else {
        tracing::error!(?rejection, "unhandled rejection");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unhandled rejection".into(),
            None,
        )
    };
    let mut response = problem.into_response();
    for (name, value) in extra {
        if let Ok(value) = warp::http::HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    Ok(response)
}
