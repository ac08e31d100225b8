//! The shape most read models share: one row per aggregate of one type in one table, the
//! row rendered from the folded aggregate; optionally with the counts of the lists the
//! rows are shown in ([`super::list_counts`]), moved in the same transaction.

use async_trait::async_trait;
use cqrs_es::Aggregate;
use engine::fold::Loaded;
use engine::store::{FoldingEvent, RecordedEvent};
use sqlx::AnyConnection;

use super::bulk_rows::BulkRows;
use super::list_counts::{CountKeys, Counts};
use super::rows::{canonical_state, project, project_with, Render, RowState};
use super::tables::TableDef;
use crate::bulk::{BulkFill, TableRows};
use crate::{Projection, ProjectionError, ReadDb, Target};

/// A projection keeping one row per aggregate of `aggregate_type` in its first table (and,
/// when counted, the list counts in its second).
pub struct RowModel<A: Aggregate> {
    name: &'static str,
    tables: &'static [TableDef],
    aggregate_type: &'static str,
    render: Render<A>,
    counted: Option<CountKeys<A>>,
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
            tables: std::slice::from_ref(def),
            aggregate_type,
            render,
            counted: None,
        }
    }

    /// The projection `name` over `tables`: the rows, then their list counts, each row in
    /// the counts `keys` names.
    pub const fn counted(
        name: &'static str,
        tables: &'static [TableDef; 2],
        aggregate_type: &'static str,
        render: Render<A>,
        keys: CountKeys<A>,
    ) -> Self {
        Self {
            name,
            tables,
            aggregate_type,
            render,
            counted: Some(keys),
        }
    }

    fn rows(&self) -> &'static TableDef {
        &self.tables[0]
    }
}

#[async_trait]
impl<A> Projection for RowModel<A>
where
    A: RowState + 'static,
{
    fn name(&self) -> &'static str {
        self.name
    }

    fn tables(&self) -> &'static [TableDef] {
        self.tables
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
        let (rows, render, aggregate_type) = (self.rows(), self.render, self.aggregate_type);
        match (self.counted, self.tables.get(1)) {
            (Some(keys), Some(counts)) => {
                project_counted(
                    conn,
                    (rows, counts),
                    target,
                    events,
                    aggregate_type,
                    render,
                    keys,
                )
                .await
            }
            _ => project::<A>(conn, rows, target, events, aggregate_type, render).await,
        }
    }

    fn bulk(&self, existing: bool) -> Option<Box<dyn BulkFill>> {
        let rows = BulkRows::<A>::new(self.rows(), self.aggregate_type, self.render, existing);
        match (self.counted, self.tables.get(1)) {
            (Some(keys), Some(def)) => Some(Box::new(CountedBulk {
                rows,
                def,
                keys,
                counts: None,
                existing,
            })),
            _ => Some(Box::new(rows)),
        }
    }

    fn canonical_state(&self, table: &TableDef, state: &str) -> Result<String, ProjectionError> {
        match table.name == self.rows().name {
            true => canonical_state::<A>(state),
            false => Ok(state.to_owned()),
        }
    }
}

/// [`project`], each row moved between the list counts `keys` names as it folds; the
/// moves are added to the counts table in the same transaction.
async fn project_counted<A>(
    conn: &mut AnyConnection,
    (rows_def, counts_def): (&TableDef, &TableDef),
    target: &Target,
    events: &[RecordedEvent],
    aggregate_type: &str,
    render: Render<A>,
    keys: CountKeys<A>,
) -> Result<(), ProjectionError>
where
    A: RowState,
{
    let mut counts = Counts::default();
    let mut step = |loaded: &mut Loaded<A>, event: &RecordedEvent| {
        counts.step(keys, loaded, event.position, |l| {
            Ok(l.apply_recorded(event)?)
        })
    };
    project_with(
        conn,
        rows_def,
        target,
        events,
        aggregate_type,
        render,
        &mut step,
    )
    .await?;
    if counts.is_empty() {
        return Ok(());
    }
    counts.add_to(conn, counts_def, target).await
}

/// A counted row model's bulk fill: the rows folded in memory, the counts whole (read
/// from the table first when the fill resumes over rows written before; the fill writes
/// them in the rows' transaction, so they agree).
struct CountedBulk<A: Aggregate> {
    rows: BulkRows<A>,
    def: &'static TableDef,
    keys: CountKeys<A>,
    counts: Option<Counts>,
    existing: bool,
}

#[async_trait]
impl<A> BulkFill for CountedBulk<A>
where
    A: RowState + 'static,
{
    async fn fold(
        &mut self,
        db: &ReadDb,
        target: &Target,
        events: &[FoldingEvent],
    ) -> Result<(), ProjectionError> {
        let counts = match &mut self.counts {
            Some(counts) => counts,
            None => self
                .counts
                .insert(Counts::start(db, self.def, target, self.existing).await?),
        };
        let keys = self.keys;
        let mut step = |loaded: &mut Loaded<A>, event: &FoldingEvent| {
            counts.step(
                keys,
                loaded,
                event.position,
                |l| Ok(l.apply_folding(event)?),
            )
        };
        self.rows.fold_with(db, target, events, &mut step).await
    }

    fn held(&self) -> usize {
        self.rows.held()
    }

    fn take(&mut self) -> Result<Vec<TableRows>, ProjectionError> {
        let mut tables = self.rows.take();
        if let Some(counts) = &self.counts {
            tables.push(TableRows::rendered(self.def, counts.rows()));
        }
        Ok(tables)
    }
}
