//! The row models' part of a bulk fill (see [`crate::bulk`]): every aggregate folded in
//! memory across pages, each row rendered and written once at the end (or whenever the
//! fill writes out to bound its memory).

use std::collections::HashMap;

use async_trait::async_trait;
use cqrs_es::Aggregate;
use engine::commands::Loaded;
use engine::store::RecordedEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::AnyConnection;

use super::rows::{load_rows, Folded, Render, Value};
use super::tables::TableDef;
use crate::bulk::{BulkFill, TableRows};
use crate::{ProjectionError, Target};

/// One aggregate type's rows, folded in memory.
pub struct BulkRows<A: Aggregate> {
    def: &'static TableDef,
    aggregate_type: &'static str,
    render: Render<A>,
    rows: HashMap<String, (Loaded<A>, i64)>,
    /// The table may hold rows this session does not (written out earlier, or by the
    /// fill this one resumes): fetch a row before folding onto it.
    spilled: bool,
}

impl<A> BulkRows<A>
where
    A: Aggregate + Serialize + DeserializeOwned + 'static,
{
    /// A session over `def`, fed the events of `aggregate_type`; `existing` when the
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
            spilled: existing,
        }
    }

    /// Folds this type's events (in position order) onto the rows held.
    pub async fn fold(
        &mut self,
        conn: &mut AnyConnection,
        target: &Target,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let aggregate_type = self.aggregate_type;
        let mine = events.iter().filter(|e| e.aggregate_type == aggregate_type);
        if self.spilled {
            self.fetch_missing(conn, target, mine.clone()).await?;
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
                loaded.apply_recorded(event)?;
                *last = event.position;
            }
        }
        Ok(())
    }

    async fn fetch_missing<'e>(
        &mut self,
        conn: &mut AnyConnection,
        target: &Target,
        events: impl Iterator<Item = &'e RecordedEvent>,
    ) -> Result<(), ProjectionError> {
        let mut missing: Vec<&str> = events
            .map(|e| e.aggregate_id.as_str())
            .filter(|id| !self.rows.contains_key(*id))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let table = target.table(self.def.name);
            let found = load_rows::<A>(conn, &table, &missing).await?;
            self.rows.extend(found);
        }
        Ok(())
    }

    /// Rows held.
    pub fn held(&self) -> usize {
        self.rows.len()
    }

    /// Lets go of every row held, to be rendered as they are written.
    pub fn take(&mut self) -> TableRows {
        let render = self.render;
        let held: Vec<_> = self.rows.drain().collect();
        self.spilled |= !held.is_empty();
        TableRows {
            def: self.def,
            rows: Box::new(held.into_iter().map(move |(id, (loaded, position))| {
                render(&Folded {
                    id,
                    loaded,
                    position,
                })
            })),
        }
    }
}

/// A key -> (text, position) table folded in memory: the last value each key got.
pub struct BulkLatest {
    def: &'static TableDef,
    rows: HashMap<String, (String, i64)>,
}

impl BulkLatest {
    /// A session over `def`, whose columns are key, value, `last_position`.
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
    A: Aggregate + Serialize + DeserializeOwned + 'static,
{
    async fn fold(
        &mut self,
        conn: &mut AnyConnection,
        target: &Target,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        BulkRows::fold(self, conn, target, events).await
    }

    fn held(&self) -> usize {
        BulkRows::held(self)
    }

    fn take(&mut self) -> Result<Vec<TableRows>, ProjectionError> {
        Ok(vec![BulkRows::take(self)])
    }
}
