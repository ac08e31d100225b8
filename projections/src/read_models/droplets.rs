//! `rm_droplets`: one row per droplet, plus this projection's own copy of cluster names
//! (joined in at query time, so a rename shows on every droplet at once) and the fleet's
//! billing totals (`rm_billing_totals`, see [`super::billing`]) and the droplets list's
//! counts (`rm_droplet_counts`, see [`super::list_counts`]), which move with the droplet
//! rows in the same transaction.

use async_trait::async_trait;
use engine::domain::Droplet;
use engine::fold::Loaded;
use engine::store::{FoldingEvent, RecordedEvent};
use sqlx::AnyConnection;

use super::billing::Totals;
use super::bulk_rows::{BulkLatest, BulkRows};
use super::list_counts::{key, Counts, ALL};
use super::rows::{canonical_state, project_with, text, time, upsert, Folded, Value};
use super::tables::{TableDef, BILLING_TOTALS, DROPLETS, DROPLET_CLUSTER_NAMES, DROPLET_COUNTS};
use crate::bulk::{BulkFill, TableRows};
use crate::{Projection, ProjectionError, ReadDb, Target};

/// Builds `rm_droplets`, `rm_droplet_cluster_names`, `rm_billing_totals` and
/// `rm_droplet_counts`.
pub struct DropletsProjection;

const TABLES: [TableDef; 4] = [
    DROPLETS,
    DROPLET_CLUSTER_NAMES,
    BILLING_TOTALS,
    DROPLET_COUNTS,
];

#[async_trait]
impl Projection for DropletsProjection {
    fn name(&self) -> &'static str {
        "droplets"
    }

    fn tables(&self) -> &'static [TableDef] {
        &TABLES
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        event.aggregate_type == "droplet" || names_cluster(&event.event_type)
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        cluster_names(conn, events, target).await?;
        droplets(conn, events, target).await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(DropletsBulk {
            names: BulkLatest::new(&DROPLET_CLUSTER_NAMES),
            droplets: BulkRows::new(&DROPLETS, "droplet", render, existing),
            totals: None,
            counts: None,
            existing,
        }))
    }

    fn canonical_state(&self, table: &TableDef, state: &str) -> Result<String, ProjectionError> {
        if table.name == DROPLETS.name {
            canonical_state::<Droplet>(state)
        } else {
            Ok(state.to_owned())
        }
    }
}

/// Whether events of `event_type` name their cluster.
fn names_cluster(event_type: &str) -> bool {
    matches!(event_type, "cluster.created" | "cluster.renamed")
}

/// The name a cluster event gives its cluster, if any.
fn cluster_name(event: &RecordedEvent) -> Option<&str> {
    if !names_cluster(&event.event_type) {
        return None;
    }
    event.data.get("name").and_then(|n| n.as_str())
}

/// [`cluster_name`] of an event read for folding (its data as JSON text).
fn folded_cluster_name(event: &FoldingEvent) -> Result<Option<String>, ProjectionError> {
    if !names_cluster(&event.event_type) {
        return Ok(None);
    }
    let data: serde_json::Value = serde_json::from_str(&event.data)?;
    Ok(data.get("name").and_then(|n| n.as_str()).map(str::to_owned))
}

/// The last name each cluster got in the batch.
async fn cluster_names(
    conn: &mut AnyConnection,
    events: &[RecordedEvent],
    target: &Target,
) -> Result<(), ProjectionError> {
    let mut names = BulkLatest::new(&DROPLET_CLUSTER_NAMES);
    for event in events {
        if let Some(name) = cluster_name(event) {
            names.set(&event.aggregate_id, name, event.position);
        }
    }
    let table = target.table(DROPLET_CLUSTER_NAMES.name);
    let rows = names.take().collect()?;
    upsert(conn, &table, &DROPLET_CLUSTER_NAMES.column_names(), rows).await
}

/// Folds the batch onto the droplet rows, and the droplets' moves between billing groups
/// onto the totals.
async fn droplets(
    conn: &mut AnyConnection,
    events: &[RecordedEvent],
    target: &Target,
) -> Result<(), ProjectionError> {
    let (mut totals, mut counts) = (Totals::default(), Counts::default());
    let mut step = |loaded: &mut Loaded<Droplet>, event: &RecordedEvent| {
        let position = event.position;
        counts.step(counted_in, loaded, position, |d| {
            totals.step(d, position, |d| Ok(d.apply_recorded(event)?))
        })
    };
    project_with(
        conn, &DROPLETS, target, events, "droplet", render, &mut step,
    )
    .await?;
    if !totals.is_empty() {
        totals.add_to(conn, target).await?;
    }
    if !counts.is_empty() {
        counts.add_to(conn, &DROPLET_COUNTS, target).await?;
    }
    Ok(())
}

/// A droplet that is not destroyed is in the list and in its cluster's; every droplet
/// is in the list of its status (`?status=destroyed` shows the destroyed ones).
fn counted_in(d: &Loaded<Droplet>) -> Vec<String> {
    let droplet = &d.state;
    if !droplet.exists() {
        return Vec::new();
    }
    let status = key("status", droplet.status.as_str());
    match droplet.is_live() {
        true => vec![
            ALL.to_owned(),
            key("cluster_id", &text(droplet.cluster_id.as_ref())),
            status,
        ],
        false => vec![status],
    }
}

fn render(f: &Folded<Droplet>) -> Result<Vec<Value>, ProjectionError> {
    let droplet = &f.loaded.state;
    Ok(vec![
        Value::Text(f.id.clone()),
        Value::Text(text(droplet.cluster_id.as_ref())),
        Value::Text(text(droplet.name.as_ref())),
        Value::Text(droplet.status.as_str().to_owned()),
        Value::Text(time(f.loaded.created_at)),
        Value::Text(serde_json::to_string(&f.loaded)?),
        Value::Int(f.position),
    ])
}

/// The droplets projection's bulk fill: its tables folded in memory, the billing totals
/// whole (read from the table first when the fill resumes over rows written before; the
/// fill writes them in the droplet rows' transaction, so they agree).
struct DropletsBulk {
    names: BulkLatest,
    droplets: BulkRows<Droplet>,
    totals: Option<Totals>,
    counts: Option<Counts>,
    existing: bool,
}

#[async_trait]
impl BulkFill for DropletsBulk {
    async fn fold(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            if let Some(name) = folded_cluster_name(event)? {
                self.names.set(&event.aggregate_id, &name, event.position);
            }
        }
        let totals = match &mut self.totals {
            Some(totals) => totals,
            None => {
                let totals = if self.existing {
                    let mut conn = db.pool().acquire().await?;
                    Totals::load(&mut conn, target).await?
                } else {
                    Totals::default()
                };
                self.totals.insert(totals)
            }
        };
        let counts = match &mut self.counts {
            Some(counts) => counts,
            None => self
                .counts
                .insert(Counts::start(db, &DROPLET_COUNTS, target, self.existing).await?),
        };
        let mut step = |loaded: &mut Loaded<Droplet>, event: &FoldingEvent| {
            let position = event.position;
            counts.step(counted_in, loaded, position, |d| {
                totals.step(d, position, |d| Ok(d.apply_folding(event)?))
            })
        };
        self.droplets.fold_with(db, target, events, &mut step).await
    }

    fn held(&self) -> usize {
        self.names.held() + self.droplets.held()
    }

    fn take(&mut self) -> Result<Vec<TableRows>, ProjectionError> {
        let mut tables = vec![self.names.take()];
        tables.extend(self.droplets.take());
        if let Some(totals) = &self.totals {
            tables.push(TableRows::rendered(&BILLING_TOTALS, totals.rows()));
        }
        if let Some(counts) = &self.counts {
            tables.push(TableRows::rendered(&DROPLET_COUNTS, counts.rows()));
        }
        Ok(tables)
    }
}
