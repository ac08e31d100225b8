//! Folding a batch of events into cache records, the way the SQL read models fold rows
//! (`read_models/rows.rs`): the records a batch touches are read in one call, the events
//! are folded in memory with [`Loaded`] (an event a record already reflects is skipped),
//! and each touched record is written once, in its read form (a cluster's droplets
//! counted, not listed: [`ReadForm`]).
//!
//! Two checks catch a cache that lost data (a key evicted by Redis, a partial flush): an
//! event must follow its record's version exactly, and a summary must begin with its
//! cluster's `cluster.created`. Either failing is [`CacheError::Inconsistent`]: the cache
//! is healed from the log instead of folding onto a hole.
//!
//! A cache that evicts records to stay within a budget ([`ReadCache::evicts`], the
//! in-process one) lacks records by design. There an aggregate record that is missing
//! although its stream has earlier events is refolded from the log (snapshot, then the
//! events before the batch's first one for it) and folded on, so the summary touches
//! it yields are right; a missing summary is not rebuilt (that would take every event of
//! the cluster, its droplets and its jobs): its touches are skipped and it stays a miss,
//! answered from SQL. A cluster's name record is rewritten with every cluster event, so
//! an evicted one comes back with the cluster's next event.
//!
//! Summaries are written before the aggregates of the same batch, so that an aggregate
//! record at position P implies its cluster's summary is at P or later (a runner that
//! skips an event because the aggregate already reflects it may skip it for the summary
//! too).

use std::collections::{BTreeMap, HashMap};

use cqrs_es::Aggregate;
use engine::domain::{Cluster, Droplet, Job};
use engine::fold::{load, Loaded, ReadForm};
use engine::store::{EventStore, RecordedEvent};
use engine::views::{ClusterView, DropletView, JobView};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::backend::{Kind, ReadCache, Record, RecordKey, StoredState};
use super::summary::{LastJob, SummaryState, Touch};
use super::CacheError;

/// An aggregate record being folded.
enum Fold {
    Cluster(Loaded<Cluster>),
    Droplet(Loaded<Droplet>),
    Job(Loaded<Job>),
}

impl Fold {
    /// The record's fold in the read form it is written in.
    fn reduce_to_read_form(&mut self) {
        match self {
            Fold::Cluster(c) => c.state.to_read_form(),
            Fold::Droplet(d) => d.state.to_read_form(),
            Fold::Job(j) => j.state.to_read_form(),
        }
    }
}

struct Slot {
    fold: Fold,
    position: i64,
    changed: bool,
}

/// The records `events` change, summaries first; reads the current ones from `cache`
/// (and, from `store`, the folds an evicting cache dropped).
pub async fn fold_batch(
    cache: &dyn ReadCache,
    store: &dyn EventStore,
    events: &[RecordedEvent],
) -> Result<Vec<(RecordKey, Record)>, CacheError> {
    let keys = aggregate_keys(events);
    let stored = cache.states(&keys).await?;
    let mut slots = HashMap::with_capacity(keys.len());
    for (key, stored) in keys.iter().zip(stored) {
        let slot = match stored {
            None if cache.evicts() => refold(store, key, events).await?,
            stored => slot(key.kind, stored)?,
        };
        slots.insert(key.clone(), slot);
    }
    let mut touches = Vec::new();
    // Each cluster's name after its last event in the batch.
    let mut names = BTreeMap::new();
    for event in events {
        let Some(key) = aggregate_key(event) else {
            continue;
        };
        let Some(slot) = slots.get_mut(&key) else {
            continue;
        };
        if let Some(touch) = advance(slot, event)? {
            if let Touch::Cluster { name, .. } = &touch.1 {
                names.insert(event.aggregate_id.clone(), (event.position, name.clone()));
            }
            touches.push((touch.0, event.position, touch.1));
        }
    }
    let mut records = fold_summaries(cache, touches).await?;
    for key in keys {
        if let Some(mut slot) = slots.remove(&key).filter(|s| s.changed) {
            slot.fold.reduce_to_read_form();
            let record = render(&slot)?;
            records.push((key, record));
        }
    }
    for (cluster_id, (position, name)) in names {
        let record = Record {
            position,
            view: serde_json::to_string(&name)?,
            state: "null".into(),
        };
        records.push((RecordKey::new(Kind::ClusterName, cluster_id), record));
    }
    Ok(records)
}

fn aggregate_key(event: &RecordedEvent) -> Option<RecordKey> {
    let kind = match event.aggregate_type.as_str() {
        "cluster" => Kind::Cluster,
        "droplet" => Kind::Droplet,
        "job" => Kind::Job,
        _ => return None,
    };
    Some(RecordKey::new(kind, event.aggregate_id.clone()))
}

/// The aggregate records of `events`, each once, in order of first appearance.
fn aggregate_keys(events: &[RecordedEvent]) -> Vec<RecordKey> {
    let mut keys: Vec<RecordKey> = Vec::new();
    for key in events.iter().filter_map(aggregate_key) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

fn slot(kind: Kind, stored: Option<StoredState>) -> Result<Slot, CacheError> {
    let position = stored.as_ref().map_or(0, |s| s.position);
    let text = stored.as_ref().map(|s| s.state.as_str());
    let fold = match kind {
        Kind::Cluster => Fold::Cluster(loaded(text)?),
        Kind::Droplet => Fold::Droplet(loaded(text)?),
        _ => Fold::Job(loaded(text)?),
    };
    Ok(Slot {
        fold,
        position,
        changed: false,
    })
}

/// The slot of a record an evicting cache lacks: empty when the batch starts its stream,
/// else the aggregate refolded from the log up to just before the batch's first event
/// for it (the record was evicted).
async fn refold(
    store: &dyn EventStore,
    key: &RecordKey,
    events: &[RecordedEvent],
) -> Result<Slot, CacheError> {
    let first = events
        .iter()
        .find(|e| aggregate_key(e).as_ref() == Some(key));
    let Some(first) = first.filter(|e| e.sequence > 1) else {
        return slot(key.kind, None);
    };
    let before = Some(first.position - 1);
    let (position, fold) = match key.kind {
        Kind::Cluster => {
            let loaded = load::<Cluster>(store, &key.id, before).await?;
            (loaded.last_position, Fold::Cluster(loaded))
        }
        Kind::Droplet => {
            let loaded = load::<Droplet>(store, &key.id, before).await?;
            (loaded.last_position, Fold::Droplet(loaded))
        }
        _ => {
            let loaded = load::<Job>(store, &key.id, before).await?;
            (loaded.last_position, Fold::Job(loaded))
        }
    };
    Ok(Slot {
        fold,
        position,
        changed: false,
    })
}

fn loaded<A>(state: Option<&str>) -> Result<Loaded<A>, CacheError>
where
    A: Aggregate + DeserializeOwned,
{
    match state {
        Some(text) => Ok(serde_json::from_str(text)?),
        None => Ok(Loaded::<A>::fold(&[])?),
    }
}

/// Applies `event` to its record unless the record already reflects it; returns the
/// summary change (cluster id and touch) when it was applied.
fn advance(slot: &mut Slot, event: &RecordedEvent) -> Result<Option<(String, Touch)>, CacheError> {
    if event.position <= slot.position {
        return Ok(None);
    }
    let touch = match &mut slot.fold {
        Fold::Cluster(c) => {
            apply(c, event)?;
            Some((event.aggregate_id.clone(), cluster_touch(c, event)))
        }
        Fold::Droplet(d) => {
            apply(d, event)?;
            d.state.cluster_id.as_ref().map(|cluster| {
                let touch = Touch::Droplet {
                    id: event.aggregate_id.clone(),
                    status: d.state.status.as_str().to_owned(),
                };
                (cluster.to_string(), touch)
            })
        }
        Fold::Job(j) => {
            apply(j, event)?;
            j.state
                .cluster_id
                .as_ref()
                .map(|cluster| (cluster.to_string(), job_touch(j)))
        }
    };
    slot.position = event.position;
    slot.changed = true;
    Ok(touch)
}

fn apply<A: Aggregate>(loaded: &mut Loaded<A>, event: &RecordedEvent) -> Result<(), CacheError> {
    if event.sequence != loaded.version as i64 + 1 {
        return Err(CacheError::Inconsistent(format!(
            "{}/{} is at version {} but the next event (position {}) has sequence {}",
            event.aggregate_type,
            event.aggregate_id,
            loaded.version,
            event.position,
            event.sequence
        )));
    }
    loaded.apply_recorded(event)?;
    Ok(())
}

fn cluster_touch(c: &Loaded<Cluster>, event: &RecordedEvent) -> Touch {
    let view = ClusterView::from_loaded(c);
    Touch::Cluster {
        name: view.name,
        status: view.status,
        droplet_count: view.droplet_count,
        deleted: c.state.deleted,
        created: event.event_type == "cluster.created",
    }
}

fn job_touch(j: &Loaded<Job>) -> Touch {
    let view = JobView::from_loaded(j);
    Touch::Job {
        job: LastJob {
            id: view.id,
            job_type: view.job_type,
            status: view.status,
            progress: view.progress,
        },
        created_at: j
            .created_at
            .map(engine::store::format_time)
            .unwrap_or_default(),
    }
}

/// Folds the summary changes of a batch onto the stored summaries.
async fn fold_summaries(
    cache: &dyn ReadCache,
    touches: Vec<(String, i64, Touch)>,
) -> Result<Vec<(RecordKey, Record)>, CacheError> {
    let mut keys: Vec<RecordKey> = Vec::new();
    for (cluster_id, _, _) in &touches {
        let key = RecordKey::new(Kind::Summary, cluster_id.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let stored = cache.states(&keys).await?;
    let mut summaries: HashMap<String, (Option<SummaryState>, bool)> = HashMap::new();
    for (key, stored) in keys.iter().zip(stored) {
        let state = stored
            .map(|s| serde_json::from_str::<SummaryState>(&s.state))
            .transpose()?;
        summaries.insert(key.id.clone(), (state, false));
    }
    for (cluster_id, position, touch) in touches {
        let Some((summary, changed)) = summaries.get_mut(&cluster_id) else {
            continue;
        };
        if summary.is_none() {
            if !matches!(touch, Touch::Cluster { created: true, .. }) {
                if cache.evicts() {
                    // Evicted: it stays a miss, answered from SQL.
                    continue;
                }
                return Err(CacheError::Inconsistent(format!(
                    "no summary for cluster {cluster_id} at position {position}"
                )));
            }
            *summary = Some(SummaryState::new(&cluster_id));
        }
        let Some(state) = summary.as_mut().filter(|s| s.position < position) else {
            continue;
        };
        state.apply(touch, position);
        *changed = true;
    }
    let mut records = Vec::new();
    for key in keys {
        if let Some((Some(state), true)) = summaries.remove(&key.id) {
            let record = Record {
                position: state.position,
                view: serde_json::to_string(&state.render())?,
                state: serde_json::to_string(&state)?,
            };
            records.push((key, record));
        }
    }
    Ok(records)
}

fn render(slot: &Slot) -> Result<Record, CacheError> {
    let (view, state) = match &slot.fold {
        Fold::Cluster(c) => (
            json(&c.state.is_live().then(|| ClusterView::from_loaded(c)))?,
            json(c)?,
        ),
        Fold::Droplet(d) => (json(&DropletView::from_loaded(d, None))?, json(d)?),
        Fold::Job(j) => (json(&JobView::from_loaded(j))?, json(j)?),
    };
    Ok(Record {
        position: slot.position,
        view,
        state,
    })
}

fn json<T: Serialize>(value: &T) -> Result<String, CacheError> {
    Ok(serde_json::to_string(value)?)
}
