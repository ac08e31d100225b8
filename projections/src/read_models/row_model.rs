//! The shape most read models share: one row per aggregate of one type in one table, the
//! row rendered from the folded aggregate.

use async_trait::async_trait;
use cqrs_es::Aggregate;
use engine::store::RecordedEvent;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::rows::{canonical_state, project, Render};
use super::tables::TableDef;
use crate::bulk::BulkFill;
use crate::{Projection, ProjectionError, Target};

/// A projection keeping one row per aggregate of `aggregate_type` in `def`.
pub struct RowModel<A: Aggregate> {
    name: &'static str,
    def: &'static TableDef,
    aggregate_type: &'static str,
    render: Render<A>,
}

impl<A: Aggregate> RowModel<A> {
    /// The projection `name` (its checkpoint's name) over `def`.
    pub const fn new(
        name: &'static str,
        def: &'static TableDef,
        aggregate_type: &'static str,
        render: Render<A>,
    ) -> Self {
        Self {
            name,
            def,
            aggregate_type,
            render,
        }
    }
}

#[async_trait]
impl<A> Projection for RowModel<A>
where
    A: Aggregate + Serialize + DeserializeOwned + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [TableDef] {
        std::slice::from_ref(self.def)
    }

    fn handles(&self, event: &RecordedEvent) -> bool {
        event.aggregate_type == self.aggregate_type
    }

    async fn apply(
        &self,
        conn: &mut AnyConnection,
        events: &[RecordedEvent],
        target: &Target,
    ) -> Result<(), ProjectionError> {
        project::<A>(
            conn,
            self.def,
            target,
            events,
            self.aggregate_type,
            self.render,
        )
        .await
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        Some(Box::new(BulkRows::<A>::new(
            self.def,
            self.aggregate_type,
            self.render,
            existing,
        )))
    }

    fn canonical_state(&self, _table: &TableDef, state: &str) -> Result<String, ProjectionError> {
        canonical_state::<A>(state)
    }
}
