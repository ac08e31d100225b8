//! The runtime's book of unfinished jobs, folded from job events, and the durable timers
//! read from it. Nothing here lives only in memory: a retry is due at its
//! `job.retry_scheduled`'s time plus `delay_ms`; a running attempt is lost when nothing
//! was heard of it (`job.started`, `job.heartbeat`, `job.progressed`) for its policy's
//! heartbeat timeout. After a restart the book is folded again from the log, so pending
//! retries and time-outs carry on where they were.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::{JobStatus, JobType};
use crate::policies::Policies;
use crate::store::RecordedEvent;

/// An unfinished job as the runtime sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// Its type (None if `job.created` could not be read).
    pub job_type: Option<JobType>,
    /// `pending`, `queued` or `running`.
    pub status: JobStatus,
    /// Attempts started.
    pub attempt: u32,
    /// When the running attempt was last heard of.
    pub heard_at: DateTime<Utc>,
    /// When a queued job may start (after a retry's backoff).
    pub due_at: DateTime<Utc>,
    /// Whether cancellation was requested.
    pub cancel_requested: bool,
}

/// What an event means for attempts running here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal {
    /// Stop the running attempt of this job: cancellation was requested.
    Cancel(String),
}

/// Unfinished jobs by id, with two indexes so that no question walks every job (a backlog
/// of many thousands is asked on every change of the log): jobs waiting for an attempt by
/// the moment they may start, and the jobs running.
#[derive(Debug, Default)]
pub struct JobBook {
    jobs: BTreeMap<String, Tracked>,
    /// Pending and queued jobs by (may start at, id): creation order for new ones.
    waiting: BTreeSet<(DateTime<Utc>, String)>,
    /// Running jobs.
    running: BTreeSet<String>,
}

impl JobBook {
    /// Folds one job event in.
    pub fn apply(&mut self, event: &RecordedEvent) -> Option<Signal> {
        let id = &event.aggregate_id;
        let at = event.recorded_at;
        let data = &event.data;
        if event.event_type == "job.created" {
            let job_type = data
                .get("job_type")
                .and_then(|t| t.as_str())
                .and_then(|t| JobType::parse(t).ok());
            self.jobs.insert(
                id.clone(),
                Tracked {
                    job_type,
                    status: JobStatus::Pending,
                    attempt: 0,
                    heard_at: at,
                    due_at: at,
                    cancel_requested: false,
                },
            );
            self.waiting.insert((at, id.clone()));
            return None;
        }
        let tracked = self.jobs.get_mut(id)?;
        match event.event_type.as_str() {
            "job.queued" => tracked.status = JobStatus::Queued,
            "job.started" => {
                self.waiting.remove(&(tracked.due_at, id.clone()));
                self.running.insert(id.clone());
                tracked.status = JobStatus::Running;
                tracked.attempt = number(data, "attempt").map_or(tracked.attempt + 1, |a| a as u32);
                tracked.heard_at = at;
            }
            "job.heartbeat" | "job.progressed" => tracked.heard_at = at,
            "job.retry_scheduled" => {
                self.running.remove(id);
                tracked.status = JobStatus::Queued;
                let delay = number(data, "delay_ms").unwrap_or(0);
                tracked.due_at =
                    at + TimeDelta::milliseconds(i64::try_from(delay).unwrap_or(i64::MAX / 2));
                self.waiting.insert((tracked.due_at, id.clone()));
            }
            "job.cancel_requested" => {
                tracked.cancel_requested = true;
                return Some(Signal::Cancel(id.clone()));
            }
            "job.succeeded" | "job.failed" | "job.timed_out" | "job.cancelled" => {
                self.waiting.remove(&(tracked.due_at, id.clone()));
                self.running.remove(id);
                self.jobs.remove(id);
            }
            _ => {}
        }
        None
    }

    /// Jobs a worker may take now (pending, or queued and due), in the order they became
    /// startable.
    pub fn ready(&self, now: DateTime<Utc>) -> impl Iterator<Item = &str> {
        self.waiting
            .iter()
            .take_while(move |(at, _)| *at <= now)
            .map(|(_, id)| id.as_str())
    }

    /// Running attempts not heard of for their heartbeat timeout: (job id, attempt).
    pub fn lost(&self, now: DateTime<Utc>, policies: &Policies) -> Vec<(String, u32)> {
        self.running
            .iter()
            .filter_map(|id| self.jobs.get(id).map(|t| (id, t)))
            .filter(|(_, t)| lost_at(t, policies) <= now)
            .map(|(id, t)| (id.clone(), t.attempt))
            .collect()
    }

    /// The earliest future moment a timer fires (a retry becomes due, an attempt is lost).
    pub fn next_timer(&self, now: DateTime<Utc>, policies: &Policies) -> Option<DateTime<Utc>> {
        let after_now = (now + TimeDelta::nanoseconds(1), String::new());
        let due = self.waiting.range(after_now..).next().map(|(at, _)| *at);
        let lost = self
            .running
            .iter()
            .filter_map(|id| self.jobs.get(id))
            .map(|t| lost_at(t, policies))
            .filter(|at| *at > now)
            .min();
        due.into_iter().chain(lost).min()
    }

    /// The job, if unfinished.
    pub fn get(&self, id: &str) -> Option<&Tracked> {
        self.jobs.get(id)
    }

    /// Unfinished jobs.
    pub fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Whether every job is finished.
    pub fn is_empty(&self) -> bool {
        self.jobs.is_empty()
    }
}

fn lost_at(tracked: &Tracked, policies: &Policies) -> DateTime<Utc> {
    let timeout = policies.of(tracked.job_type).heartbeat_timeout_ms;
    tracked.heard_at + TimeDelta::milliseconds(i64::try_from(timeout).unwrap_or(i64::MAX / 2))
}

fn number(data: &serde_json::Value, key: &str) -> Option<u64> {
    data.get(key).and_then(serde_json::Value::as_u64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::store::EventMetadata;

    fn event(id: &str, event_type: &str, data: serde_json::Value, at_ms: i64) -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::new_v4(),
            position: at_ms,
            aggregate_type: "job".into(),
            aggregate_id: id.into(),
            sequence: 1,
            event_type: event_type.into(),
            schema_version: 1,
            recorded_at: DateTime::<Utc>::UNIX_EPOCH + TimeDelta::milliseconds(at_ms),
            data,
            metadata: EventMetadata::default(),
            hash: String::new(),
        }
    }

    fn at(ms: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + TimeDelta::milliseconds(ms)
    }

    #[test]
    fn retries_are_due_after_their_backoff_and_lost_attempts_after_silence() {
        let policies = Policies::default(); // diagnose: heartbeat timeout 30 s
        let mut book = JobBook::default();
        book.apply(&event(
            "a",
            "job.created",
            json!({"job_type": "diagnose"}),
            0,
        ));
        book.apply(&event(
            "b",
            "job.created",
            json!({"job_type": "diagnose"}),
            1,
        ));
        assert_eq!(book.ready(at(1)).collect::<Vec<_>>(), ["a", "b"]);
        for e in [
            event("a", "job.queued", json!({}), 2),
            event("a", "job.started", json!({"attempt": 1}), 3),
            event(
                "a",
                "job.retry_scheduled",
                json!({"attempt": 1, "delay_ms": 1000}),
                10,
            ),
        ] {
            book.apply(&e);
        }
        assert_eq!(book.ready(at(500)).collect::<Vec<_>>(), ["b"]);
        assert_eq!(book.next_timer(at(500), &policies), Some(at(1010)));
        // In the order they became startable.
        assert_eq!(book.ready(at(1010)).collect::<Vec<_>>(), ["b", "a"]);

        book.apply(&event("b", "job.queued", json!({}), 20));
        book.apply(&event("b", "job.started", json!({"attempt": 1}), 30));
        book.apply(&event("b", "job.heartbeat", json!({"attempt": 1}), 20_030));
        assert!(book.lost(at(40_000), &policies).is_empty());
        assert_eq!(book.lost(at(50_030), &policies), [("b".to_owned(), 1)]);

        let signal = book.apply(&event("b", "job.cancel_requested", json!({}), 50_100));
        assert_eq!(signal, Some(Signal::Cancel("b".into())));
        book.apply(&event("b", "job.cancelled", json!({}), 50_200));
        book.apply(&event("a", "job.succeeded", json!({}), 50_300));
        assert!(book.is_empty());
    }
}
