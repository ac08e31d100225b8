//! `/v1/metrics`: the ingest body and its validation (shape, then the ids against the
//! read models), the list and series queries, and the answers.
//!
//! Validation is in two steps. Shape ([`validate`]): a malformed sample (unknown type,
//! value out of range, timestamp too far ahead or older than the raw retention, malformed
//! ids) makes the whole batch a `422` naming `samples[i].field`. References ([`judge`]):
//! a droplet of another cluster is a shape error too; a cluster that does not exist or is
//! deleted, a droplet that does not exist or is destroyed (the read models may have seen
//! it go a moment ago) only rejects that sample, and the others are stored.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use engine::domain::{ClusterId, DropletId};
use engine::metrics::{MetricSample, MetricType};
use projections::metric_refs::SampleRefs;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// The most samples one request may carry.
pub const MAX_BATCH: usize = 1000;

/// How far ahead of the server's clock a timestamp may be.
pub const MAX_AHEAD: Duration = Duration::minutes(5);

/// The most points a series answers.
pub const MAX_POINTS: i64 = 2000;

/// The largest network value, in Mbps.
pub const MAX_NETWORK_MBPS: f64 = 100_000.0;

/// `POST /v1/metrics`: a batch of 1 to 1000 samples.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestBody {
    #[schema(min_items = 1, max_items = 1000)]
    pub samples: Vec<IngestSample>,
}

/// One sample of a batch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestSample {
    /// The cluster (it must exist and not be deleted).
    pub cluster_id: String,
    /// The droplet, of that cluster; absent or null for a cluster-wide sample.
    pub droplet_id: Option<String>,
    /// `cpu`, `memory`, `disk` (percent, 0 to 100) or `network` (Mbps, 0 to 100,000).
    #[serde(rename = "type")]
    #[schema(pattern = "^(cpu|memory|disk|network)$")]
    pub metric_type: String,
    pub value: f64,
    /// When it was measured (default: now); at most 5 minutes ahead, no older than the raw
    /// retention (24 hours by default).
    pub timestamp: Option<DateTime<Utc>>,
}

/// The body as parsed before each sample is validated on its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBatch {
    pub samples: Vec<Value>,
}

/// The times a sample's timestamp must lie between.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub now: DateTime<Utc>,
    /// The oldest accepted time (now minus the raw retention).
    pub oldest: DateTime<Utc>,
}

/// Field errors by `samples[i].field`.
pub type FieldErrors = BTreeMap<String, String>;

/// Every sample of `raw`, or the errors of all the malformed ones.
pub fn validate(raw: &[Value], window: Window) -> Result<Vec<MetricSample>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if raw.is_empty() || raw.len() > MAX_BATCH {
        errors.insert(
            "samples".into(),
            format!("must hold 1 to {MAX_BATCH} samples, not {}", raw.len()),
        );
        return Err(errors);
    }
    let samples: Vec<Option<MetricSample>> = raw
        .iter()
        .enumerate()
        .map(|(i, value)| {
            one(value, window, &mut |field: &str, message: String| {
                errors.insert(format!("samples[{i}].{field}"), message);
            })
        })
        .collect();
    match errors.is_empty() {
        true => Ok(samples.into_iter().flatten().collect()),
        false => Err(errors),
    }
}

const FIELDS: [&str; 5] = ["cluster_id", "droplet_id", "type", "value", "timestamp"];

/// One sample, or `None` after reporting each bad field.
fn one(
    value: &Value,
    window: Window,
    report: &mut dyn FnMut(&str, String),
) -> Option<MetricSample> {
    let Some(fields) = value.as_object() else {
        report("body", "must be a JSON object".into());
        return None;
    };
    for unknown in fields.keys().filter(|k| !FIELDS.contains(&k.as_str())) {
        report(
            unknown,
            format!("unknown field; expected one of {}", FIELDS.join(", ")),
        );
    }
    let cluster_id = required_text(fields, "cluster_id", report).and_then(|raw| {
        ClusterId::parse(raw)
            .map_err(|e| report("cluster_id", e.message))
            .ok()
    });
    let droplet_id = match fields.get("droplet_id") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(raw)) => DropletId::parse(raw)
            .map(Some)
            .map_err(|e| report("droplet_id", e.message))
            .ok(),
        Some(_) => {
            report("droplet_id", "must be a droplet id or null".into());
            None
        }
    };
    let metric_type = required_text(fields, "type", report).and_then(|raw| {
        MetricType::parse(raw)
            .map_err(|e| report("type", e.message))
            .ok()
    });
    let value = check_value(fields.get("value"), metric_type, report);
    let timestamp = check_timestamp(fields.get("timestamp"), window, report);
    Some(MetricSample {
        cluster_id: cluster_id?,
        droplet_id: droplet_id?,
        metric_type: metric_type?,
        value: value?,
        timestamp: timestamp?,
    })
}

fn required_text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    report: &mut dyn FnMut(&str, String),
) -> Option<&'a str> {
    match fields.get(name) {
        Some(Value::String(text)) => Some(text),
        None | Some(Value::Null) => {
            report(name, "is required".into());
            None
        }
        Some(_) => {
            report(name, "must be a string".into());
            None
        }
    }
}

/// The range a value of `kind` must lie in.
pub fn range(kind: MetricType) -> (f64, f64) {
    match kind {
        MetricType::Network => (0.0, MAX_NETWORK_MBPS),
        _ => (0.0, 100.0),
    }
}

fn check_value(
    raw: Option<&Value>,
    kind: Option<MetricType>,
    report: &mut dyn FnMut(&str, String),
) -> Option<f64> {
    let Some(value) = raw.and_then(Value::as_f64) else {
        report("value", "must be a number".into());
        return None;
    };
    if !value.is_finite() {
        report("value", "must be a finite number".into());
        return None;
    }
    let (min, max) = range(kind?);
    if !(min..=max).contains(&value) {
        let unit = kind.map_or("", MetricType::unit);
        report("value", format!("must be between {min} and {max} ({unit})"));
        return None;
    }
    Some(value)
}

fn check_timestamp(
    raw: Option<&Value>,
    window: Window,
    report: &mut dyn FnMut(&str, String),
) -> Option<DateTime<Utc>> {
    let at = match raw {
        None | Some(Value::Null) => return Some(window.now),
        Some(Value::String(text)) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) => at.with_timezone(&Utc),
            Err(_) => {
                report("timestamp", "must be an RFC 3339 time".into());
                return None;
            }
        },
        Some(_) => {
            report("timestamp", "must be an RFC 3339 time".into());
            return None;
        }
    };
    if at > window.now + MAX_AHEAD {
        report("timestamp", "is more than 5 minutes in the future".into());
        return None;
    }
    if at < window.oldest {
        report(
            "timestamp",
            format!(
                "is older than the raw retention (before {})",
                window.oldest.to_rfc3339()
            ),
        );
        return None;
    }
    Some(at)
}

/// What the references of one sample say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Store it.
    Keep,
    /// Leave it out; the others are stored (`field`, `detail`).
    Reject(&'static str, String),
    /// The batch is malformed (`field`, `detail`).
    Invalid(&'static str, String),
}

/// Judges one sample against the read models' view of its cluster and droplet.
pub fn judge(sample: &MetricSample, refs: &SampleRefs) -> Verdict {
    let cluster = sample.cluster_id.as_str();
    if let Some(droplet) = &sample.droplet_id {
        match refs.droplets.get(droplet.as_str()) {
            Some(found) if found.cluster_id != cluster => {
                return Verdict::Invalid(
                    "droplet_id",
                    format!(
                        "droplet {droplet} belongs to cluster {}, not {cluster}",
                        found.cluster_id
                    ),
                );
            }
            None => {
                return Verdict::Reject("droplet_id", format!("droplet {droplet} does not exist"))
            }
            Some(found) if found.destroyed => {
                return Verdict::Reject("droplet_id", format!("droplet {droplet} is destroyed"));
            }
            Some(_) => {}
        }
    }
    match refs.live_clusters.contains(cluster) {
        true => Verdict::Keep,
        false => Verdict::Reject(
            "cluster_id",
            format!("cluster {cluster} does not exist or is deleted"),
        ),
    }
}

/// A sample left out of a batch that was otherwise stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RejectedSample {
    /// Its index in `samples`.
    pub index: usize,
    /// `cluster_id` or `droplet_id`.
    pub field: String,
    pub detail: String,
}

/// `202` of `POST /v1/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IngestReply {
    /// Samples stored.
    pub accepted: u64,
    /// Samples left out because their cluster or droplet is gone or unknown.
    pub rejected: Vec<RejectedSample>,
}

/// A stored sample as `GET /v1/metrics` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MetricSampleView {
    pub cluster_id: String,
    pub droplet_id: Option<String>,
    #[serde(rename = "type")]
    pub metric_type: String,
    pub value: f64,
    /// `percent` or `mbps`.
    pub unit: String,
    pub timestamp: DateTime<Utc>,
}

impl From<&MetricSample> for MetricSampleView {
    fn from(s: &MetricSample) -> Self {
        Self {
            cluster_id: s.cluster_id.to_string(),
            droplet_id: s.droplet_id.as_ref().map(ToString::to_string),
            metric_type: s.metric_type.as_str().into(),
            value: s.value,
            unit: s.metric_type.unit().into(),
            timestamp: s.timestamp,
        }
    }
}

/// One point of a series: the samples in `[t, t + step)`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SeriesPointView {
    pub t: DateTime<Utc>,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    pub count: u64,
}

/// `GET /v1/metrics?step=`: a series, oldest point first, empty buckets left out.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SeriesView {
    #[serde(rename = "type")]
    pub metric_type: String,
    pub unit: String,
    /// Seconds per point.
    pub step: u32,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub points: Vec<SeriesPointView>,
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use projections::metric_refs::DropletRef;
    use serde_json::json;

    use super::*;

    fn window() -> Window {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Window {
            now,
            oldest: now - Duration::hours(24),
        }
    }

    #[test]
    fn every_bad_field_of_every_sample_is_named() {
        let c = ClusterId::new().to_string();
        let raw = vec![
            json!({"cluster_id": c, "type": "cpu", "value": 10}),
            json!({"cluster_id": "nope", "type": "heat", "value": "hot"}),
            json!({"cluster_id": c, "type": "cpu", "value": 101}),
            json!({"cluster_id": c, "type": "network", "value": -1, "droplet_id": 3}),
            json!({"cluster_id": c, "type": "disk", "value": 1, "timestamp": "2027-01-15T08:06:00Z"}),
            json!({"cluster_id": c, "type": "disk", "value": 1, "timestamp": "2020-01-01T00:00:00Z"}),
            json!({"cluster_id": c, "type": "disk", "value": 1, "colour": "red"}),
            json!("not an object"),
        ];
        let errors = validate(&raw, window()).unwrap_err();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "samples[1].cluster_id",
                "samples[1].type",
                "samples[1].value",
                "samples[2].value",
                "samples[3].droplet_id",
                "samples[3].value",
                "samples[4].timestamp",
                "samples[5].timestamp",
                "samples[6].colour",
                "samples[7].body",
            ]
        );
    }

    #[test]
    fn good_samples_pass_with_now_as_the_default_time() {
        let c = ClusterId::new().to_string();
        let raw = vec![
            json!({"cluster_id": c, "type": "network", "value": 100000.0, "droplet_id": null}),
            json!({"cluster_id": c, "type": "cpu", "value": 0, "timestamp": "2027-01-15T07:59:00Z"}),
        ];
        let samples = validate(&raw, window()).unwrap();
        assert_eq!(samples[0].timestamp, window().now);
        assert_eq!(samples[1].metric_type, MetricType::Cpu);
        assert!(validate(&[], window()).is_err());
        assert!(validate(&vec![raw[0].clone(); MAX_BATCH + 1], window()).is_err());
    }

    #[test]
    fn gone_references_reject_one_sample_and_a_foreign_droplet_the_batch() {
        let (live, gone) = (ClusterId::new(), ClusterId::new());
        let (mine, foreign, destroyed) = (DropletId::new(), DropletId::new(), DropletId::new());
        let refs = SampleRefs {
            live_clusters: HashSet::from([live.to_string()]),
            droplets: HashMap::from([
                (
                    mine.to_string(),
                    DropletRef {
                        cluster_id: live.to_string(),
                        destroyed: false,
                    },
                ),
                (
                    foreign.to_string(),
                    DropletRef {
                        cluster_id: gone.to_string(),
                        destroyed: false,
                    },
                ),
                (
                    destroyed.to_string(),
                    DropletRef {
                        cluster_id: live.to_string(),
                        destroyed: true,
                    },
                ),
            ]),
        };
        let sample = |cluster: &ClusterId, droplet: Option<&DropletId>| MetricSample {
            cluster_id: cluster.clone(),
            droplet_id: droplet.cloned(),
            metric_type: MetricType::Cpu,
            value: 1.0,
            timestamp: window().now,
        };
        assert_eq!(judge(&sample(&live, Some(&mine)), &refs), Verdict::Keep);
        assert_eq!(judge(&sample(&live, None), &refs), Verdict::Keep);
        assert!(matches!(
            judge(&sample(&gone, None), &refs),
            Verdict::Reject("cluster_id", _)
        ));
        assert!(matches!(
            judge(&sample(&live, Some(&DropletId::new())), &refs),
            Verdict::Reject("droplet_id", _)
        ));
        assert!(matches!(
            judge(&sample(&live, Some(&destroyed)), &refs),
            Verdict::Reject("droplet_id", _)
        ));
        assert!(matches!(
            judge(&sample(&live, Some(&foreign)), &refs),
            Verdict::Invalid("droplet_id", _)
        ));
    }
}
