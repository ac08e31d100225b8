//! A cluster's auto-scaling policy: the value (validated from [`PolicyInput`], every bad
//! field reported), its time windows, and the cluster commands that set and remove it.
//!
//! Three types: `metrics` (scale out above `scale_up_threshold`, in below
//! `scale_down_threshold`, averaged over `evaluation_window_seconds`), `cost` (the same,
//! under a required `cost_limit_per_hour`) and `time_of_day` (the desired droplets of the
//! first window containing the moment, `min_droplets` outside every window). The fields a
//! type does not use are not kept.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Cluster, ClusterAutoscalingPolicyRemoved, ClusterAutoscalingPolicySet};
use super::{ClusterError, ClusterEvent};
use crate::domain::values::{MetricType, ValidationError};

/// The most droplets a policy may keep.
pub const MAX_DROPLETS: u32 = 100;
/// The longest cooldown, in seconds (a day).
pub const MAX_COOLDOWN_SECONDS: u32 = 86_400;
/// The cooldown when none is given.
pub const DEFAULT_COOLDOWN_SECONDS: u32 = 300;
/// The evaluation window when none is given, in seconds.
pub const DEFAULT_WINDOW_SECONDS: u32 = 300;
/// The most windows a `time_of_day` policy may have.
pub const MAX_WINDOWS: usize = 32;

/// What drives a policy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// A metric's average against two thresholds.
    Metrics,
    /// Desired droplets by time windows.
    TimeOfDay,
    /// Like `metrics`, under a required hourly cost cap.
    Cost,
}

impl PolicyType {
    /// Every type.
    pub const ALL: [Self; 3] = [Self::Metrics, Self::TimeOfDay, Self::Cost];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Metrics => "metrics",
            Self::TimeOfDay => "time_of_day",
            Self::Cost => "cost",
        }
    }

    /// Whether the type scales on a metric (`metrics` and `cost`).
    pub fn uses_metric(self) -> bool {
        matches!(self, Self::Metrics | Self::Cost)
    }
}

/// A day of the week, as windows name them (`mon` … `sun`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

impl Day {
    /// Every day, Monday first.
    pub const ALL: [Self; 7] = [
        Self::Mon,
        Self::Tue,
        Self::Wed,
        Self::Thu,
        Self::Fri,
        Self::Sat,
        Self::Sun,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mon => "mon",
            Self::Tue => "tue",
            Self::Wed => "wed",
            Self::Thu => "thu",
            Self::Fri => "fri",
            Self::Sat => "sat",
            Self::Sun => "sun",
        }
    }

    /// The day of a calendar weekday.
    pub fn of(weekday: Weekday) -> Self {
        Self::ALL[weekday.num_days_from_monday() as usize]
    }

    /// The day before.
    pub fn previous(self) -> Self {
        Self::ALL[(self as usize + 6) % 7]
    }
}

/// A time window of a `time_of_day` policy: on `days`, from `start` (inclusive) to `end`
/// (exclusive) in `time_zone`; an `end` before `start` crosses midnight (the part after
/// midnight belongs to the day it started on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct ScaleWindow {
    pub days: Vec<Day>,
    /// `HH:MM`, 24-hour clock.
    #[schema(example = "09:00")]
    pub start: String,
    /// `HH:MM`, 24-hour clock; before `start` when the window crosses midnight.
    #[schema(example = "18:00")]
    pub end: String,
    /// An IANA time zone name, e.g. `Europe/Paris`.
    #[schema(example = "UTC")]
    pub time_zone: String,
    /// The droplets wanted while the window is open.
    pub desired_droplets: u32,
}

impl ScaleWindow {
    /// Whether the window is open at `now` (in its time zone, daylight saving included).
    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let (Some(start), Some(end)) = (clock_minutes(&self.start), clock_minutes(&self.end))
        else {
            return false;
        };
        let zone = Tz::from_str(&self.time_zone).unwrap_or(Tz::UTC);
        let local = now.with_timezone(&zone);
        let minute = local.hour() * 60 + local.minute();
        let today = Day::of(local.weekday());
        let on = |day: Day| self.days.contains(&day);
        if start < end {
            on(today) && (start..end).contains(&minute)
        } else {
            (on(today) && minute >= start) || (on(today.previous()) && minute < end)
        }
    }
}

impl fmt::Display for ScaleWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days: Vec<&str> = self.days.iter().map(|d| d.as_str()).collect();
        write!(
            f,
            "{} {}-{} {}",
            days.join(","),
            self.start,
            self.end,
            self.time_zone
        )
    }
}

/// Minutes since midnight of a valid `HH:MM`.
fn clock_minutes(text: &str) -> Option<u32> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// A cluster's auto-scaling policy (validated: see [`AutoscalingPolicy::parse`]).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, utoipa::ToSchema)]
pub struct AutoscalingPolicy {
    #[serde(rename = "type")]
    pub policy_type: PolicyType,
    pub enabled: bool,
    pub min_droplets: u32,
    pub max_droplets: u32,
    pub cooldown_seconds: u32,
    /// `metrics` and `cost` only.
    pub metric_type: Option<MetricType>,
    /// `metrics` and `cost` only: scale out when the average is above it.
    pub scale_up_threshold: Option<f64>,
    /// `metrics` and `cost` only: scale in when the average is below it.
    pub scale_down_threshold: Option<f64>,
    /// `metrics` and `cost` only.
    pub evaluation_window_seconds: Option<u32>,
    /// `time_of_day` only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<ScaleWindow>,
    /// Required for `cost`, an optional cap for the others.
    pub cost_limit_per_hour: Option<f64>,
}

/// A policy as the caller wrote it (`PUT /v1/clusters/{id}/autoscaling`), before
/// validation.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyInput {
    /// `metrics`, `time_of_day` or `cost`.
    #[serde(rename = "type")]
    #[schema(pattern = "^(metrics|time_of_day|cost)$")]
    pub policy_type: Option<String>,
    /// Default `true`.
    pub enabled: Option<bool>,
    /// 0 or more.
    pub min_droplets: Option<i64>,
    /// From `min_droplets` to 100.
    pub max_droplets: Option<i64>,
    /// 0 to 86400 (default 300).
    pub cooldown_seconds: Option<i64>,
    /// `cpu`, `memory`, `disk` or `network`: required for `metrics` and `cost`.
    pub metric_type: Option<String>,
    /// Required for `metrics` and `cost`; above `scale_down_threshold`.
    pub scale_up_threshold: Option<f64>,
    /// Required for `metrics` and `cost`; below `scale_up_threshold`.
    pub scale_down_threshold: Option<f64>,
    /// 30 to 3600 (default 300); `metrics` and `cost`.
    pub evaluation_window_seconds: Option<i64>,
    /// Required (non-empty) for `time_of_day`.
    pub windows: Option<Vec<WindowInput>>,
    /// Above 0: required for `cost`, an optional cap for the others.
    pub cost_limit_per_hour: Option<f64>,
}

/// A window as the caller wrote it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowInput {
    /// Non-empty, of `mon` … `sun`.
    pub days: Option<Vec<String>>,
    /// `HH:MM`.
    pub start: Option<String>,
    /// `HH:MM`, not `start`; before `start` to cross midnight.
    pub end: Option<String>,
    /// IANA name (default `UTC`).
    pub time_zone: Option<String>,
    /// Within `min_droplets..=max_droplets`.
    pub desired_droplets: Option<i64>,
}

/// Collects every field's error.
#[derive(Default)]
struct Errors(Vec<ValidationError>);

impl Errors {
    fn fail(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(ValidationError::new(field, message));
    }

    /// `value` within `lo..=hi`, else an error (and `None`).
    fn ranged(&mut self, field: &'static str, value: i64, lo: i64, hi: i64) -> Option<u32> {
        if (lo..=hi).contains(&value) {
            u32::try_from(value).ok()
        } else {
            self.fail(field, format!("must be from {lo} to {hi}"));
            None
        }
    }
}

impl AutoscalingPolicy {
    /// Validates `input`, reporting every bad field.
    pub fn parse(input: &PolicyInput) -> Result<Self, Vec<ValidationError>> {
        let mut e = Errors::default();
        let policy_type = match input.policy_type.as_deref() {
            None => {
                e.fail("type", "is required: metrics, time_of_day or cost");
                None
            }
            Some(raw) => {
                let found = PolicyType::ALL.into_iter().find(|t| t.as_str() == raw);
                if found.is_none() {
                    e.fail("type", "must be one of metrics, time_of_day, cost");
                }
                found
            }
        };
        let min = match input.min_droplets {
            None => {
                e.fail("min_droplets", "is required");
                None
            }
            Some(v) => e.ranged("min_droplets", v, 0, i64::from(MAX_DROPLETS)),
        };
        let max = match input.max_droplets {
            None => {
                e.fail("max_droplets", "is required");
                None
            }
            Some(v) => e.ranged("max_droplets", v, 0, i64::from(MAX_DROPLETS)),
        };
        if let (Some(min), Some(max)) = (min, max) {
            if max < min {
                e.fail(
                    "max_droplets",
                    format!("must be at least min_droplets ({min})"),
                );
            }
        }
        let cooldown = match input.cooldown_seconds {
            None => Some(DEFAULT_COOLDOWN_SECONDS),
            Some(v) => e.ranged("cooldown_seconds", v, 0, i64::from(MAX_COOLDOWN_SECONDS)),
        };
        let cost_limit = cost_limit(&mut e, input, policy_type);
        let metric = match policy_type {
            Some(t) if t.uses_metric() => metric_part(&mut e, input),
            _ => None,
        };
        let windows = match policy_type {
            Some(PolicyType::TimeOfDay) => windows(&mut e, input.windows.as_deref(), min, max),
            _ => Vec::new(),
        };
        match (policy_type, min, max, cooldown) {
            (Some(policy_type), Some(min_droplets), Some(max_droplets), Some(cooldown_seconds))
                if e.0.is_empty() =>
            {
                let (metric_type, up, down, window) = match metric {
                    Some(m) => (Some(m.0), Some(m.1), Some(m.2), Some(m.3)),
                    None => (None, None, None, None),
                };
                Ok(Self {
                    policy_type,
                    enabled: input.enabled.unwrap_or(true),
                    min_droplets,
                    max_droplets,
                    cooldown_seconds,
                    metric_type,
                    scale_up_threshold: up,
                    scale_down_threshold: down,
                    evaluation_window_seconds: window,
                    windows,
                    cost_limit_per_hour: cost_limit,
                })
            }
            _ => Err(e.0),
        }
    }

    /// The first window open at `now`, if any.
    pub fn open_window(&self, now: DateTime<Utc>) -> Option<&ScaleWindow> {
        self.windows.iter().find(|w| w.contains(now))
    }
}

fn cost_limit(e: &mut Errors, input: &PolicyInput, t: Option<PolicyType>) -> Option<f64> {
    match input.cost_limit_per_hour {
        None if t == Some(PolicyType::Cost) => {
            e.fail("cost_limit_per_hour", "is required for a cost policy");
            None
        }
        None => None,
        Some(v) if v.is_finite() && v > 0.0 => Some(v),
        Some(_) => {
            e.fail("cost_limit_per_hour", "must be a number above 0");
            None
        }
    }
}

/// Metric type, up and down thresholds, window: what `metrics` and `cost` need.
fn metric_part(e: &mut Errors, input: &PolicyInput) -> Option<(MetricType, f64, f64, u32)> {
    let metric = match input.metric_type.as_deref() {
        None => {
            e.fail("metric_type", "is required for metrics and cost policies");
            None
        }
        Some(raw) => MetricType::parse(raw)
            .map_err(|err| e.fail("metric_type", err.message))
            .ok(),
    };
    let ceiling = match metric {
        Some(MetricType::Network) | None => f64::MAX,
        Some(_) => 100.0,
    };
    let mut threshold = |field: &'static str, value: Option<f64>| match value {
        None => {
            e.fail(field, "is required for metrics and cost policies");
            None
        }
        Some(v) if v.is_finite() && (0.0..=ceiling).contains(&v) => Some(v),
        Some(_) if ceiling == 100.0 => {
            e.fail(field, "must be a percentage from 0 to 100");
            None
        }
        Some(_) => {
            e.fail(field, "must be a number of 0 or more");
            None
        }
    };
    let up = threshold("scale_up_threshold", input.scale_up_threshold);
    let down = threshold("scale_down_threshold", input.scale_down_threshold);
    if let (Some(up), Some(down)) = (up, down) {
        if down >= up {
            e.fail(
                "scale_down_threshold",
                format!("must be below scale_up_threshold ({up}): the band between them is the hysteresis"),
            );
        }
    }
    let window = match input.evaluation_window_seconds {
        None => Some(DEFAULT_WINDOW_SECONDS),
        Some(v) => e.ranged("evaluation_window_seconds", v, 30, 3600),
    };
    Some((metric?, up?, down?, window?))
}

fn windows(
    e: &mut Errors,
    input: Option<&[WindowInput]>,
    min: Option<u32>,
    max: Option<u32>,
) -> Vec<ScaleWindow> {
    let list = match input {
        None | Some([]) => {
            e.fail(
                "windows",
                "at least one window is required for a time_of_day policy",
            );
            return Vec::new();
        }
        Some(list) if list.len() > MAX_WINDOWS => {
            e.fail("windows", format!("at most {MAX_WINDOWS} windows"));
            return Vec::new();
        }
        Some(list) => list,
    };
    // One error for the field, naming each bad window's part (the API answers one
    // message per field).
    let mut bad = Errors::default();
    let parsed: Vec<ScaleWindow> = list
        .iter()
        .enumerate()
        .filter_map(|(i, w)| window(&mut bad, i, w, min, max))
        .collect();
    if !bad.0.is_empty() {
        let messages: Vec<String> = bad.0.into_iter().map(|e| e.message).collect();
        e.fail("windows", messages.join("; "));
    }
    parsed
}

fn window(
    e: &mut Errors,
    i: usize,
    w: &WindowInput,
    min: Option<u32>,
    max: Option<u32>,
) -> Option<ScaleWindow> {
    let before = e.0.len();
    let mut fail = |message: String| e.fail("windows", format!("windows[{i}].{message}"));
    let days = match w.days.as_deref() {
        None | Some([]) => {
            fail("days: at least one of mon, tue, wed, thu, fri, sat, sun".into());
            Vec::new()
        }
        Some(days) => {
            let mut parsed = Vec::new();
            for raw in days {
                match Day::ALL.into_iter().find(|d| d.as_str() == raw) {
                    Some(day) if !parsed.contains(&day) => parsed.push(day),
                    Some(_) => fail(format!("days: {raw} is named twice")),
                    None => fail(format!(
                        "days: {raw:?} is not one of mon, tue, wed, thu, fri, sat, sun"
                    )),
                }
            }
            parsed
        }
    };
    let mut clock = |field: &str, value: Option<&String>| match value {
        Some(v) if clock_minutes(v).is_some() => Some(v.clone()),
        Some(v) => {
            fail(format!(
                "{field}: {v:?} is not a time HH:MM (00:00 to 23:59)"
            ));
            None
        }
        None => {
            fail(format!("{field}: is required (HH:MM)"));
            None
        }
    };
    let start = clock("start", w.start.as_ref());
    let end = clock("end", w.end.as_ref());
    if let (Some(s), Some(t)) = (&start, &end) {
        if s == t {
            fail("end: must differ from start (an end before the start crosses midnight)".into());
        }
    }
    let zone = w.time_zone.clone().unwrap_or_else(|| "UTC".to_owned());
    if Tz::from_str(&zone).is_err() {
        fail(format!(
            "time_zone: {zone:?} is not an IANA time zone (e.g. Europe/Paris)"
        ));
    }
    let desired = match w.desired_droplets {
        None => {
            fail("desired_droplets: is required".into());
            None
        }
        Some(v) => {
            let lo = i64::from(min.unwrap_or(0));
            let hi = i64::from(max.unwrap_or(MAX_DROPLETS));
            if (lo..=hi).contains(&v) {
                u32::try_from(v).ok()
            } else {
                fail(format!(
                    "desired_droplets: must be within min_droplets..=max_droplets ({lo} to {hi})"
                ));
                None
            }
        }
    };
    if e.0.len() != before {
        return None;
    }
    Some(ScaleWindow {
        days,
        start: start?,
        end: end?,
        time_zone: zone,
        desired_droplets: desired?,
    })
}

impl Cluster {
    /// Sets (nothing when identical) or removes the policy of a live cluster.
    pub(super) fn decide_autoscaling(
        &self,
        policy: Option<AutoscalingPolicy>,
    ) -> Result<Vec<ClusterEvent>, ClusterError> {
        match policy {
            Some(policy) if self.autoscaling.as_ref() == Some(&policy) => Ok(Vec::new()),
            Some(policy) => Ok(vec![ClusterEvent::AutoscalingPolicySet(
                ClusterAutoscalingPolicySet { policy },
            )]),
            None if self.autoscaling.is_none() => Err(ClusterError::NoAutoscalingPolicy),
            None => Ok(vec![ClusterEvent::AutoscalingPolicyRemoved(
                ClusterAutoscalingPolicyRemoved {},
            )]),
        }
    }
}

#[cfg(test)]
#[path = "autoscaling_tests.rs"]
mod tests;
