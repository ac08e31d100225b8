//! Filling fresh copies of the read models from the log in bulk: a rebuild's shadow tables
//! and a replay's scratch schema.
//!
//! The live path applies a batch at a time: it loads the rows the batch touches, folds,
//! and writes them back, because readers are waiting on every batch. Nobody reads a copy
//! being filled, so a fill does less work per event:
//!
//! - reader tasks fetch the next pages of the log (two at a time, with only the columns a
//!   fold reads, the data as JSON text decoded straight into events) while the current one
//!   is folded;
//! - each projection's [`BulkFill`] session folds every aggregate in memory across pages,
//!   so a row is neither loaded nor written once per page;
//! - rows are written once, at the end (or when the sessions hold more than [`HOLD`]
//!   rows, to bound memory: later pages then fetch a row written out before folding onto
//!   it), on PostgreSQL with `COPY`. Each projection's checkpoint moves with the write
//!   (each write loads the tables side by side, each in its own transaction, while the
//!   checkpoints stay locked, and moves them once all are in), so an interrupted rebuild
//!   resumes from the last write.
//!
//! A projection without a bulk session is applied page by page. An event a projection
//! cannot fold ends the fill with its error (the caller falls back to the batch path,
//! which retries and parks it); another process moving a checkpoint the fill keeps ends
//! it with [`Filled::Contended`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use engine::store::{EventFilter, EventStore, FoldingEvent, RecordedEvent};
use futures::StreamExt;
use sqlx::postgres::PgConnection;
use sqlx::Connection;
use tokio::sync::mpsc;

use crate::pg_copy::{copy_in, copy_upsert, load_table, Written};
use crate::read_models::rows::upsert;
use crate::read_models::{TableDef, Value};
use crate::runtime::checkpoint::{
    apply_checkpointed, lock_checkpoint, now, save_checkpoint, ENSURE_CHECKPOINT, LOCK_CHECKPOINT,
    SAVE_CHECKPOINT,
};
use crate::{Projection, ProjectionError, ReadDb, Target};

/// Events read per page.
const PAGE: i64 = 10_000;

/// Rows the sessions may hold in memory together before they are written out (a few
/// hundred megabytes at most).
pub const HOLD: usize = 400_000;

/// Rows of one table in its column order, rendered as they are taken, so that rendering
/// the next rows overlaps writing the previous ones.
pub struct TableRows {
    pub def: &'static TableDef,
    /// None of these rows can be in the table yet (they may go in with a plain `COPY`);
    /// otherwise they are upserted.
    pub fresh: bool,
    pub rows: Box<dyn Iterator<Item = Result<Vec<Value>, ProjectionError>> + Send>,
}

impl TableRows {
    /// Rows already rendered, upserted when written.
    pub fn rendered(def: &'static TableDef, rows: Vec<Vec<Value>>) -> Self {
        Self {
            def,
            fresh: false,
            rows: Box::new(rows.into_iter().map(Ok)),
        }
    }

    /// Renders every row.
    pub fn collect(self) -> Result<Vec<Vec<Value>>, ProjectionError> {
        self.rows.collect()
    }
}

/// A projection's part of a fill.
#[async_trait]
pub trait BulkFill: Send {
    /// Folds a page of events (in position order) onto the rows held; a row not held is
    /// fetched from `target` first (through `db`) when the table may already hold it.
    async fn fold(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
    ) -> Result<(), ProjectionError>;

    /// Rows held in memory.
    fn held(&self) -> usize;

    /// Renders every row held, per table, and lets go of them.
    fn take(&mut self) -> Result<Vec<TableRows>, ProjectionError>;
}

/// What to fill.
#[derive(Debug, Clone)]
pub struct FillPlan {
    pub target: Target,
    /// Continue after this position; 0 when the tables are empty.
    pub from: i64,
    /// Stop after this position; `None`: at the first short page (the caller catches up).
    pub to: Option<i64>,
    /// Keep each projection's checkpoint in `target` with every write (a rebuild, which
    /// resumes from it); a replay keeps none.
    pub checkpoints: bool,
    /// Rows the sessions may hold in memory together before they are written out
    /// ([`HOLD`] unless testing the write-outs).
    pub hold: usize,
}

/// How a fill ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filled {
    /// Every event up to this position is in the copy.
    Done(i64),
    /// Another writer moved a checkpoint of the copy (another process fills it too); the
    /// copy holds what that writer's checkpoint says, nothing of this fill's last part.
    Contended,
}

/// Where a fill's time went (logged at debug level).
#[derive(Default)]
struct Spent {
    reading: Duration,
    folding: Duration,
    writing: Duration,
}

/// One projection in a fill.
enum Session {
    Bulk(&'static str, Box<dyn BulkFill>),
    Batch(Arc<dyn Projection>),
}

/// Fills `projections`' tables in `plan.target` from the log.
pub async fn fill(
    store: Arc<dyn EventStore>,
    db: &ReadDb,
    projections: &[Arc<dyn Projection>],
    plan: &FillPlan,
    progress: &(dyn Fn(i64) + Send + Sync),
) -> Result<Filled, ProjectionError> {
    let mut sessions: Vec<Session> = projections
        .iter()
        .map(|p| match p.bulk(plan.from > 0) {
            Some(session) => Session::Bulk(p.name(), session),
            None => Session::Batch(Arc::clone(p)),
        })
        .collect();
    let light = sessions.iter().all(|s| matches!(s, Session::Bulk(..)));
    let mut pages = read_ahead(store, plan.from, plan.to, light);
    let mut writes = Writes {
        db,
        plan,
        written: plan.from,
    };
    let mut position = plan.from;
    let mut spent = Spent::default();
    loop {
        let waited = Instant::now();
        let Some(page) = pages.recv().await else {
            break;
        };
        spent.reading += waited.elapsed();
        let page = Arc::new(page?);
        let Some(last) = page.folding.last().map(|e| e.position) else {
            break;
        };
        let folding = Instant::now();
        fold_page(db, plan, &mut sessions, &page).await?;
        spent.folding += folding.elapsed();
        position = last;
        if held(&sessions) > plan.hold {
            let writing = Instant::now();
            if !writes.write_out(&mut sessions, position).await? {
                return Ok(Filled::Contended);
            }
            spent.writing += writing.elapsed();
        }
        progress(position);
    }
    let writing = Instant::now();
    if !writes.write_out(&mut sessions, position).await? {
        return Ok(Filled::Contended);
    }
    spent.writing += writing.elapsed();
    tracing::debug!(
        position,
        waiting_for_pages_ms = spent.reading.as_millis() as u64,
        folding_ms = spent.folding.as_millis() as u64,
        writing_ms = spent.writing.as_millis() as u64,
        "bulk fill done"
    );
    Ok(Filled::Done(position))
}

/// Pages of the log read at the same time, each on its own task and connection.
const READERS: usize = 2;

/// A page of the log: as the bulk sessions fold it, and whole when a projection without
/// one needs it.
struct Page {
    folding: Vec<FoldingEvent>,
    full: Option<Vec<RecordedEvent>>,
}

/// Reads one page: only what folds read when `light`, else the events whole.
async fn read_page(
    store: &dyn EventStore,
    after: i64,
    limit: i64,
    light: bool,
) -> Result<Page, ProjectionError> {
    if light {
        let folding = store.read_for_folding(after, limit).await?;
        return Ok(Page {
            folding,
            full: None,
        });
    }
    let full = store
        .read_all(after, limit, &EventFilter::default())
        .await?;
    Ok(Page {
        folding: full.iter().map(FoldingEvent::from).collect(),
        full: Some(full),
    })
}

/// Reads the log after `from` up to `to` (`None`: the head when the fill starts; the caller
/// catches up after), [`READERS`] pages at a time, ahead of the fold. Positions are
/// gap-free, so page `k` is exactly `(from + k·PAGE, from + (k+1)·PAGE]` and pages can be
/// fetched side by side, then handed over in order. `light`: only what folds read
/// ([`EventStore::read_for_folding`]).
fn read_ahead(
    store: Arc<dyn EventStore>,
    from: i64,
    to: Option<i64>,
    light: bool,
) -> mpsc::Receiver<Result<Page, ProjectionError>> {
    let (tx, rx) = mpsc::channel(READERS);
    tokio::spawn(async move {
        let end = match to {
            Some(to) => to,
            None => match store.head().await {
                Ok(head) => head,
                Err(error) => {
                    let _ = tx.send(Err(error.into())).await;
                    return;
                }
            },
        };
        let starts = (from..end).step_by(PAGE as usize);
        let mut pages = futures::stream::iter(starts)
            .map(|after| {
                let store = Arc::clone(&store);
                let limit = PAGE.min(end - after);
                tokio::spawn(async move { read_page(&*store, after, limit, light).await })
            })
            .buffered(READERS);
        while let Some(page) = pages.next().await {
            let page = page.unwrap_or_else(|e| {
                Err(ProjectionError::Invalid(format!(
                    "a log reader stopped: {e}"
                )))
            });
            let last = matches!(&page, Ok(p) if p.folding.is_empty()) || page.is_err();
            if tx.send(page).await.is_err() || last {
                return;
            }
        }
    });
    rx
}

/// Folds a page into every session: the bulk sessions each on their own task, side by
/// side (they share nothing but the page), the batch ones meanwhile, in turn.
async fn fold_page(
    db: &ReadDb,
    plan: &FillPlan,
    sessions: &mut Vec<Session>,
    page: &Arc<Page>,
) -> Result<(), ProjectionError> {
    let mut folding = Vec::new();
    let mut done = Vec::new();
    for (i, session) in std::mem::take(sessions).into_iter().enumerate() {
        match session {
            Session::Bulk(name, mut bulk) => {
                let (db, target, page) = (db.clone(), plan.target.clone(), Arc::clone(page));
                let fold = tokio::spawn(async move {
                    let folded = bulk.fold(&db, &target, &page.folding).await;
                    (bulk, folded)
                });
                folding.push((i, name, fold));
            }
            Session::Batch(projection) => {
                let events = page.full.as_deref().ok_or_else(|| {
                    ProjectionError::Invalid("a page was read without whole events".into())
                })?;
                apply_batch(db, plan, &*projection, events).await?;
                done.push((i, Session::Batch(projection)));
            }
        }
    }
    for (i, name, fold) in folding {
        let (bulk, folded) = fold
            .await
            .map_err(|e| ProjectionError::Invalid(format!("folding {name} stopped: {e}")))?;
        folded?;
        done.push((i, Session::Bulk(name, bulk)));
    }
    done.sort_unstable_by_key(|(i, _)| *i);
    sessions.extend(done.into_iter().map(|(_, session)| session));
    Ok(())
}

/// Applies a page through a projection's batch path (with its checkpoint when the fill
/// keeps checkpoints).
async fn apply_batch(
    db: &ReadDb,
    plan: &FillPlan,
    projection: &dyn Projection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    if plan.checkpoints {
        apply_checkpointed(db, projection, &plan.target, events).await?;
        return Ok(());
    }
    let mut tx = db.begin().await?;
    projection.apply(&mut tx, events, &plan.target).await?;
    tx.commit().await?;
    Ok(())
}

fn held(sessions: &[Session]) -> usize {
    sessions
        .iter()
        .map(|s| match s {
            Session::Bulk(_, bulk) => bulk.held(),
            Session::Batch(_) => 0,
        })
        .sum()
}

/// Writing the rows held, with the checkpoints.
struct Writes<'a> {
    db: &'a ReadDb,
    plan: &'a FillPlan,
    /// What the checkpoints say since the last write (0: nothing is in the tables yet, so
    /// rows go in with plain `COPY`).
    written: i64,
}

impl Writes<'_> {
    /// Writes every row held and moves the checkpoints to `position`; false when another
    /// writer moved a checkpoint meanwhile (nothing is written then).
    async fn write_out(
        &mut self,
        sessions: &mut [Session],
        position: i64,
    ) -> Result<bool, ProjectionError> {
        let mut tables = Vec::new();
        let mut names = Vec::new();
        for session in sessions.iter_mut() {
            if let Session::Bulk(name, bulk) = session {
                tables.extend(bulk.take()?);
                names.push(self.plan.target.checkpoint(name));
            }
        }
        if !self.plan.checkpoints {
            names.clear();
        }
        let storing = Instant::now();
        let written = if self.db.is_sqlite() {
            self.write_sqlite(tables, &names, position).await?
        } else {
            self.write_postgres(tables, &names, position).await?
        };
        let storing_ms = storing.elapsed().as_millis() as u64;
        let Some(count) = written else {
            return Ok(false);
        };
        let (rows, bytes) = (count.rows, count.bytes);
        tracing::debug!(rows, bytes, storing_ms, "bulk rows rendered and written");
        self.written = position;
        Ok(true)
    }

    /// Writes `tables` with the checkpoints; `None` when another writer moved a checkpoint.
    async fn write_sqlite(
        &self,
        tables: Vec<TableRows>,
        checkpoints: &[String],
        position: i64,
    ) -> Result<Option<Written>, ProjectionError> {
        let mut tx = self.db.begin().await?;
        for name in checkpoints {
            if lock_checkpoint(&mut tx, name, true).await? != self.written {
                return Ok(None);
            }
        }
        let mut written = Written::default();
        for table in tables {
            let name = self.plan.target.table(table.def.name);
            let columns = table.def.column_names();
            let rows = table.collect()?;
            written.rows += rows.len();
            if tracing::enabled!(tracing::Level::DEBUG) {
                written.bytes += rows.iter().flatten().map(Value::size).sum::<usize>();
            }
            upsert(&mut tx, &name, &columns, rows).await?;
        }
        for name in checkpoints {
            save_checkpoint(&mut tx, name, position).await?;
        }
        tx.commit().await?;
        Ok(Some(written))
    }

    /// [`Writes::write_sqlite`] on PostgreSQL, with `COPY`.
    async fn write_postgres(
        &self,
        tables: Vec<TableRows>,
        checkpoints: &[String],
        position: i64,
    ) -> Result<Option<Written>, ProjectionError> {
        let mut conn = PgConnection::connect(self.db.url()).await?;
        let mut tx = conn.begin().await?;
        for name in checkpoints {
            sqlx::query(ENSURE_CHECKPOINT)
                .bind(name)
                .bind(now())
                .execute(&mut *tx)
                .await?;
            let stored: i64 = sqlx::query_scalar(LOCK_CHECKPOINT)
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
            if stored != self.written {
                return Ok(None);
            }
        }
        let written = self.load_side_by_side(tables, self.written == 0).await?;
        for name in checkpoints {
            sqlx::query(SAVE_CHECKPOINT)
                .bind(name)
                .bind(position)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(written))
    }

    /// Loads the rows of a write: every table at the same time, each on its own connection
    /// and in its own transaction (a table's parts, new rows and rows to upsert, one after
    /// the other; a table loaded with another, [`TableDef::loaded_with`], in that one's). The caller holds the checkpoints' row locks meanwhile and moves them only
    /// after every table committed, so another filler waits on those locks. A crash in
    /// between leaves some tables ahead of the checkpoints: on the `first` write the
    /// checkpoints are still at 0 and the next fill empties the tables again (`load_table`
    /// truncates); on a later one the next fill resumes at the last checkpoint over tables
    /// that may hold any row, so it fetches each row before folding onto it and skips the
    /// events the row already reflects (its `last_position`).
    async fn load_side_by_side(
        &self,
        tables: Vec<TableRows>,
        first: bool,
    ) -> Result<Written, ProjectionError> {
        let mut parts: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut by_group: BTreeMap<&'static str, Vec<TableRows>> = BTreeMap::new();
        for table in tables {
            *parts.entry(table.def.name).or_default() += 1;
            by_group
                .entry(table.def.load_group())
                .or_default()
                .push(table);
        }
        if first && parts.values().any(|n| *n > 1) {
            return Err(ProjectionError::Invalid(
                "a first bulk write got one table's rows in two parts".into(),
            ));
        }
        let loads: Vec<_> = by_group
            .into_values()
            .map(|parts| {
                let target = self.plan.target.clone();
                let url = self.db.url().to_owned();
                tokio::spawn(async move {
                    let mut conn = PgConnection::connect(&url).await?;
                    let mut tx = conn.begin().await?;
                    let mut written = Written::default();
                    for part in parts {
                        let name = target.table(part.def.name);
                        written.add(match (first, part.fresh) {
                            (true, _) => load_table(&mut tx, &name, part).await?,
                            (false, true) => copy_in(&mut tx, &name, part, "").await?,
                            (false, false) => copy_upsert(&mut tx, &name, part).await?,
                        });
                    }
                    tx.commit().await?;
                    Ok::<_, ProjectionError>(written)
                })
            })
            .collect();
        let mut written = Written::default();
        for load in futures::future::join_all(loads).await {
            written.add(load.map_err(|e| {
                ProjectionError::Invalid(format!("loading a table stopped: {e}"))
            })??);
        }
        Ok(written)
    }
}
