//! The fast loader of `bench system`: fills the log with realistic history far faster than
//! HTTP would.
//!
//! A **template** is recorded once through the real command service and job runtime, on a
//! temporary SQLite file: a cluster is created, [`DROPLETS`] droplets are created in it and
//! their provision jobs run to the end (zero-latency provider), and the cluster is renamed.
//! The loader then appends copies of the template's events to the measured store, every id
//! of the template's streams (and the cluster's name) replaced by a fresh one, in the
//! template's order, through the store's `append` in requests of about [`BATCH_EVENTS`]
//! events. Every stream of a copy is new, so every copy is a valid history of its own; the
//! hash chains, sequences and positions are the store's as for any append.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use engine::commands::{
    CommandContext, CommandService, CreateCluster, CreateDroplet, DropletInput, UpdateCluster,
};
use engine::executor::ExecutorOptions;
use engine::store::{
    self, AppendRequest, EventFilter, EventMetadata, EventStore, NewEvent, StreamWrite,
};

/// Droplets in the template's cluster.
const DROPLETS: usize = 8;

/// Events per append request (whole copies of the template).
const BATCH_EVENTS: usize = 2_000;

/// The template cluster's name stem, replaced in every copy.
const NAME_STEM: &str = "tmplname";

/// Cluster names of copy `n` start with this (`app0000042-1`).
pub fn name_stem(n: u64) -> String {
    format!("app{n:07}")
}

/// One event of the template.
struct TemplateEvent {
    aggregate_type: String,
    aggregate_id: String,
    event_type: String,
    schema_version: i32,
    /// The data as JSON text, ids and name still the template's.
    data: String,
}

/// The recorded history of one cluster with its droplets and jobs.
pub struct Template {
    events: Vec<TemplateEvent>,
    /// Every stream id of the template, with the prefix of its kind (`cl_`, …).
    ids: Vec<(String, String)>,
}

impl Template {
    /// Records the template through the command service and the job runtime on a
    /// temporary SQLite file.
    pub async fn record() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("a temporary directory")?;
        let url = format!("sqlite://{}", dir.path().join("template.db").display());
        let store = store::connect(&url, 4).await?;
        store.migrate().await?;
        let service = CommandService::new(Arc::clone(&store));
        let ctx = CommandContext::new("bench");
        let create = CreateCluster::parse(&format!("{NAME_STEM}-0"), "nyc1", None)?;
        let created = service.execute(&ctx, &create).await?;
        let cluster = created.fresh().context("a fresh cluster")?.id;
        for _ in 0..DROPLETS {
            let input = DropletInput {
                cluster_id: &cluster,
                name: "web",
                region: "nyc1",
                size: "s-1vcpu-1gb",
                image: "ubuntu-22-04-x64",
                provider: None,
            };
            let command = CreateDroplet::parse(input, ctx.trace_id())?;
            service.execute(&ctx, &command).await?;
        }
        run_jobs(service.clone()).await?;
        let rename = UpdateCluster::parse(&cluster, Some(&format!("{NAME_STEM}-1")), None, None)?;
        service.execute(&ctx, &rename).await?;
        let recorded = store.read_all(0, 100_000, &EventFilter::default()).await?;
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut events = Vec::with_capacity(recorded.len());
        for event in recorded {
            if !ids.iter().any(|(id, _)| *id == event.aggregate_id) {
                let prefix = id_prefix(&event.aggregate_id)?;
                ids.push((event.aggregate_id.clone(), prefix));
            }
            events.push(TemplateEvent {
                data: serde_json::to_string(&event.data)?,
                aggregate_type: event.aggregate_type,
                aggregate_id: event.aggregate_id,
                event_type: event.event_type,
                schema_version: event.schema_version,
            });
        }
        Ok(Self { events, ids })
    }

    /// Events in one copy.
    pub fn events_per_copy(&self) -> usize {
        self.events.len()
    }

    /// Copy `n`: every template id replaced by a fresh one of its kind, the name stem by
    /// [`name_stem`]; consecutive events of one stream become one write.
    fn copy(&self, n: u64) -> anyhow::Result<Vec<StreamWrite>> {
        let fresh: HashMap<&str, String> = self
            .ids
            .iter()
            .map(|(id, prefix)| {
                (
                    id.as_str(),
                    format!("{prefix}{}", uuid::Uuid::now_v7().simple()),
                )
            })
            .collect();
        let stem = name_stem(n);
        let mut writes: Vec<StreamWrite> = Vec::new();
        for event in &self.events {
            let mut data = event.data.replace(NAME_STEM, &stem);
            for (old, new) in &fresh {
                if data.contains(old) {
                    data = data.replace(old, new);
                }
            }
            let id = fresh
                .get(event.aggregate_id.as_str())
                .context("every stream id has a fresh one")?;
            let new = NewEvent {
                id: uuid::Uuid::now_v7(),
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                data: serde_json::from_str(&data)?,
                recorded_at: Utc::now(),
            };
            match writes.last_mut() {
                Some(last) if last.aggregate_id == *id => last.events.push(new),
                // Every stream of a copy is new: the store checks each write of a request
                // against the stream as it was before the request.
                _ => writes.push(StreamWrite {
                    aggregate_type: event.aggregate_type.clone(),
                    aggregate_id: id.clone(),
                    expected_version: 0,
                    events: vec![new],
                }),
            }
        }
        Ok(writes)
    }
}

/// The prefix of a prefixed id: all but the 32 hex characters at its end.
fn id_prefix(id: &str) -> anyhow::Result<String> {
    let cut = id
        .len()
        .checked_sub(32)
        .filter(|&cut| cut > 0 && id.is_char_boundary(cut))
        .with_context(|| format!("not a prefixed id: {id}"))?;
    Ok(id[..cut].to_owned())
}

/// Runs every unfinished job of the template to its end with a zero-latency provider.
async fn run_jobs(service: CommandService) -> anyhow::Result<()> {
    let options = ExecutorOptions {
        workers: 4,
        sim_delay: Duration::ZERO,
        name: "bench-template".into(),
        ..ExecutorOptions::default()
    };
    crate::bench::jobs::run_to_end(service, options, Duration::from_secs(60)).await?;
    Ok(())
}

/// Appends copies of `template` to `store` until its log holds at least `events` events;
/// returns how many events were appended.
pub async fn fill(
    store: &Arc<dyn EventStore>,
    template: &Template,
    events: i64,
) -> anyhow::Result<i64> {
    let before = store.head().await?;
    let missing = (events - before).max(0) as usize;
    let copies = missing.div_ceil(template.events_per_copy().max(1));
    let per_request = (BATCH_EVENTS / template.events_per_copy().max(1)).max(1);
    // Names go on from the clusters already there, so that each stays unique.
    let first = before.max(0) as u64;
    let metadata = CommandContext::new("bench-loader").metadata();
    let mut n = 0;
    while n < copies {
        let end = (n + per_request).min(copies);
        let mut writes = Vec::new();
        for copy in n..end {
            writes.extend(template.copy(first + copy as u64)?);
        }
        append(store, writes, &metadata).await?;
        n = end;
    }
    Ok(store.head().await? - before)
}

async fn append(
    store: &Arc<dyn EventStore>,
    writes: Vec<StreamWrite>,
    metadata: &EventMetadata,
) -> anyhow::Result<()> {
    let request = AppendRequest {
        writes,
        metadata: metadata.clone(),
        idempotency: None,
    };
    store
        .append(request)
        .await
        .context("append a batch of copies")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_what_precedes_the_uuid() {
        let id = format!("cl_{}", uuid::Uuid::now_v7().simple());
        assert_eq!(id_prefix(&id).unwrap(), "cl_");
        assert!(id_prefix("short").is_err());
    }
}
