//! The row models' part of a bulk fill (see [`crate::bulk`]): every aggregate folded in
//! memory across pages, each row rendered and written once at the end (or whenever the
//! fill writes out to bound its memory).

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use cqrs_es::Aggregate;
use engine::fold::Loaded;
use engine::store::FoldingEvent;

use super::rows::{load_rows, Folded, Render, RowState, Step, Value};
use super::tables::TableDef;
use crate::bulk::{BulkFill, TableRows};
use crate::{ProjectionError, ReadDb, Target};

/// One aggregate type's rows, folded in memory.
pub struct BulkRows<A: Aggregate> {
    def: &'static TableDef,
    aggregate_type: &'static str,
    render: Render<A>,
    rows: HashMap<String, (Loaded<A>, i64)>,
    /// Which rows the table may hold that this fill does not: a row among them is
    /// fetched before folding onto it.
    stored: Stored,
}

/// What a fill's table holds besides the rows in memory.
enum Stored {
    /// Nothing: a fresh fill that has not written out yet.
    Nothing,
    /// The rows of these ids, written out earlier by this fill.
    These(HashSet<String>),
    /// Rows of a fill this one resumes: any id may be there.
    Unknown,
}

impl<A> BulkRows<A>
where
    A: RowState + 'static,
{
    /// A fill over `def`, fed the events of `aggregate_type`; `existing` when the
    /// table already holds rows.
    pub fn new(
        def: &'static TableDef,
        aggregate_type: &'static str,
        render: Render<A>,
        existing: bool,
    ) -> Self {
        Self {
            def,
            aggregate_type,
            render,
            rows: HashMap::new(),
            stored: if existing {
                Stored::Unknown
            } else {
                Stored::Nothing
            },
        }
    }

    /// Folds this type's events (in position order) onto the rows held.
    pub async fn fold(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
    ) -> Result<(), ProjectionError> {
        let mut apply =
            |loaded: &mut Loaded<A>, event: &FoldingEvent| -> Result<(), ProjectionError> {
                loaded.apply_folding(event)?;
                Ok(())
            };
        self.fold_with(db, target, events, &mut apply).await
    }

    /// [`BulkRows::fold`], each event applied by `step` (which may watch the row change).
    pub async fn fold_with(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
        step: &mut Step<'_, A, FoldingEvent>,
    ) -> Result<(), ProjectionError> {
        let aggregate_type = self.aggregate_type;
        let mine = events.iter().filter(|e| e.aggregate_type == aggregate_type);
        if !matches!(self.stored, Stored::Nothing) {
            self.fetch_missing(db, target, mine.clone()).await?;
        }
        for event in mine {
            let id = event.aggregate_id.as_str();
            if !self.rows.contains_key(id) {
                self.rows.insert(id.to_owned(), (Loaded::fold(&[])?, 0));
            }
            let Some((loaded, last)) = self.rows.get_mut(id) else {
                continue;
            };
            if event.position > *last {
                step(loaded, event)?;
                *last = event.position;
            }
        }
        Ok(())
    }

    /// Fetches the rows `events` fold onto that the table may hold and this fill does
    /// not.
    async fn fetch_missing<'e>(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: impl Iterator<Item = &'e FoldingEvent>,
    ) -> Result<(), ProjectionError> {
        let mut missing: Vec<&str> = events
            .map(|e| e.aggregate_id.as_str())
            .filter(|id| !self.rows.contains_key(*id))
            .filter(|id| match &self.stored {
                Stored::Nothing => false,
                Stored::These(ids) => ids.contains(*id),
                Stored::Unknown => true,
            })
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let table = target.table(self.def.name);
            let mut conn = db.pool().acquire().await?;
            let found = load_rows::<A>(&mut conn, &table, &missing).await?;
            self.rows.extend(found);
        }
        Ok(())
    }

    /// Rows held.
    pub fn held(&self) -> usize {
        self.rows.len()
    }

    /// Lets go of every row held, to be rendered as they are written: the rows the table
    /// cannot hold yet apart from those it may (which need an upsert).
    pub fn take(&mut self) -> Vec<TableRows> {
        let held: Vec<_> = self.rows.drain().collect();
        let (again, new): (Vec<_>, Vec<_>) = match &self.stored {
            Stored::Nothing => (Vec::new(), held),
            Stored::These(stored) => held.into_iter().partition(|(id, _)| stored.contains(id)),
            Stored::Unknown => (held, Vec::new()),
        };
        let ids = new.iter().map(|(id, _)| id.clone());
        match &mut self.stored {
            Stored::Nothing if new.is_empty() => {}
            Stored::Nothing => self.stored = Stored::These(ids.collect()),
            Stored::These(stored) => stored.extend(ids),
            Stored::Unknown => {}
        }
        [(new, true), (again, false)]
            .into_iter()
            .filter(|(rows, _)| !rows.is_empty())
            .map(|(rows, fresh)| self.rendering(rows, fresh))
            .collect()
    }

    fn rendering(&self, rows: Vec<(String, (Loaded<A>, i64))>, fresh: bool) -> TableRows {
        let render = self.render;
        TableRows {
            def: self.def,
            fresh,
            rows: Box::new(
                rows.into_iter().map(move |(id, (loaded, position))| {
                    render(&Folded::new(id, loaded, position))
                }),
            ),
        }
    }
}

/// A key -> (text, position) table folded in memory: the last value each key got.
pub struct BulkLatest {
    def: &'static TableDef,
    rows: HashMap<String, (String, i64)>,
}

impl BulkLatest {
    /// A fill over `def`, whose columns are key, value, `last_position`.
    pub fn new(def: &'static TableDef) -> Self {
        Self {
            def,
            rows: HashMap::new(),
        }
    }

    /// Records `value` for `key` at `position` (a later position wins).
    pub fn set(&mut self, key: &str, value: &str, position: i64) {
        match self.rows.get_mut(key) {
            Some(row) if row.1 >= position => {}
            Some(row) => *row = (value.to_owned(), position),
            None => {
                self.rows
                    .insert(key.to_owned(), (value.to_owned(), position));
            }
        }
    }

    /// Rows held.
    pub fn held(&self) -> usize {
        self.rows.len()
    }

    /// Every row held, letting go of them (written with the usual upsert, so a value
    /// written out earlier is replaced only by a later one).
    pub fn take(&mut self) -> TableRows {
        let rows = self
            .rows
            .drain()
            .map(|(key, (value, position))| {
                vec![Value::Text(key), Value::Text(value), Value::Int(position)]
            })
            .collect();
        TableRows::rendered(self.def, rows)
    }
}

#[async_trait]
impl<A> BulkFill for BulkRows<A>
where
    A: RowState + 'static,
{
    async fn fold(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
    ) -> Result<(), ProjectionError> {
        BulkRows::fold(self, db, target, events).await
    }

    fn held(&self) -> usize {
        BulkRows::held(self)
    }

    fn take(&mut self) -> Result<Vec<TableRows>, ProjectionError> {
        Ok(BulkRows::take(self))
    }
}
