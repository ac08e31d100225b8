//! How many rows each list shows, kept by the projection that writes the rows, in the
//! same transaction, so a list's `total` is one primary-key read at any size instead of
//! a count over its rows (`rm_cluster_counts`, `rm_droplet_counts`, `rm_job_counts`).
//!
//! A row belongs to the counts its [`CountKeys`] name: `""` for the list without filters,
//! `"status=running"` for `?status=running`, and so on, one key per single filter a list
//! offers (combined filters and searches are counted over their rows, up to a bound, see
//! `crate::lists`). Every event is applied between two looks at the keys of its row; when
//! they change, the row leaves the old keys and joins the new ones, and each key moved
//! gets the event's position as its `last_position`. The live path adds a batch's moves
//! to the stored counts; a bulk fill keeps the counts whole in memory and writes them as
//! they are. A key whose count falls to 0 keeps its row, at 0.

use std::collections::BTreeMap;

use engine::fold::Loaded;
use sqlx::{AnyConnection, Row};

use super::rows::{insert_rows, Value};
use super::tables::TableDef;
use crate::{ProjectionError, ReadDb, Target};

/// The keys of the counts a folded aggregate's row is in (none: in no list).
pub type CountKeys<A> = fn(&Loaded<A>) -> Vec<String>;

/// The key of the count of a list without filters.
pub const ALL: &str = "";

/// The key of the count of a list filtered on `column = value`.
pub fn key(column: &str, value: &str) -> String {
    format!("{column}={value}")
}

/// A count table's definition: `id` (the key), `n`, `last_position`; a bulk fill writes
/// it in the transaction of `rows`, the table it counts.
pub const fn count_table(name: &'static str, rows: &'static str) -> TableDef {
    TableDef {
        name,
        columns: &[
            "id TEXT PRIMARY KEY",
            "n BIGINT NOT NULL",
            "last_position BIGINT NOT NULL",
        ],
        indexes: &[],
        search: None,
        loaded_with: Some(rows),
    }
}

/// Counts per key and the last event that moved a row into or out of each (moves only,
/// on the live path; whole counts in a bulk fill).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    keys: BTreeMap<String, (i64, i64)>,
}

impl Counts {
    /// Applies event `position` to `loaded` through `apply`, moving its row between the
    /// counts `keys` names before and after.
    pub fn step<A>(
        &mut self,
        keys: CountKeys<A>,
        loaded: &mut Loaded<A>,
        position: i64,
        apply: impl FnOnce(&mut Loaded<A>) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let before = keys(loaded);
        apply(loaded)?;
        let after = keys(loaded);
        if before == after {
            return Ok(());
        }
        let left = before.iter().filter(|k| !after.contains(k));
        let joined = after.iter().filter(|k| !before.contains(k));
        for (key, by) in left.map(|k| (k, -1)).chain(joined.map(|k| (k, 1))) {
            let entry = self.keys.entry(key.clone()).or_default();
            *entry = (entry.0 + by, position);
        }
        Ok(())
    }

    /// Whether no row moved.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds the moves to the counts stored in `table` of `target` (the live path).
    pub async fn add_to(
        &self,
        conn: &mut AnyConnection,
        def: &TableDef,
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let on_conflict = "ON CONFLICT (id) DO UPDATE SET n = cur.n + excluded.n, \
                           last_position = excluded.last_position";
        let table = target.table(def.name);
        insert_rows(conn, &table, &def.column_names(), self.rows(), on_conflict).await
    }

    /// Every key as its row (`id`, `n`, `last_position`).
    pub fn rows(&self) -> Vec<Vec<Value>> {
        self.keys
            .iter()
            .map(|(key, (n, position))| {
                vec![
                    Value::Text(key.clone()),
                    Value::Int(*n),
                    Value::Int(*position),
                ]
            })
            .collect()
    }

    /// The counts a bulk fill of `def`'s table in `target` starts from: those stored when
    /// the fill resumes over rows it wrote before (`existing`), else none.
    pub async fn start(
        db: &ReadDb,
        def: &TableDef,
        target: &Target,
        existing: bool,
    ) -> Result<Self, ProjectionError> {
        if !existing {
            return Ok(Self::default());
        }
        let mut conn = db.pool().acquire().await?;
        Self::load(&mut conn, def, target).await
    }

    /// The counts stored in `def`'s table of `target`.
    pub async fn load(
        conn: &mut AnyConnection,
        def: &TableDef,
        target: &Target,
    ) -> Result<Self, ProjectionError> {
        let sql = format!(
            "SELECT id, n, last_position FROM {}",
            target.table(def.name)
        );
        let mut keys = BTreeMap::new();
        for row in sqlx::query(&sql).fetch_all(&mut *conn).await? {
            keys.insert(
                row.try_get("id")?,
                (row.try_get("n")?, row.try_get("last_position")?),
            );
        }
        Ok(Self { keys })
    }
}

/// The statements that count every list's rows again, as the migration that created the
/// count tables did (its `last_position` is the newest row's of each key).
const RECOUNT: [&str; 12] = [
    "DELETE FROM rm_cluster_counts",
    "INSERT INTO rm_cluster_counts (id, n, last_position) SELECT '', COUNT(*), \
     MAX(last_position) FROM rm_clusters WHERE deleted = 0 HAVING COUNT(*) > 0",
    "INSERT INTO rm_cluster_counts (id, n, last_position) SELECT 'status=' || status, \
     COUNT(*), MAX(last_position) FROM rm_clusters WHERE deleted = 0 GROUP BY status",
    "DELETE FROM rm_droplet_counts",
    "INSERT INTO rm_droplet_counts (id, n, last_position) SELECT '', COUNT(*), \
     MAX(last_position) FROM rm_droplets WHERE status <> 'destroyed' HAVING COUNT(*) > 0",
    "INSERT INTO rm_droplet_counts (id, n, last_position) SELECT 'cluster_id=' || cluster_id, \
     COUNT(*), MAX(last_position) FROM rm_droplets WHERE status <> 'destroyed' \
     GROUP BY cluster_id",
    "INSERT INTO rm_droplet_counts (id, n, last_position) SELECT 'status=' || status, \
     COUNT(*), MAX(last_position) FROM rm_droplets GROUP BY status",
    "DELETE FROM rm_job_counts",
    "INSERT INTO rm_job_counts (id, n, last_position) SELECT '', COUNT(*), \
     MAX(last_position) FROM rm_jobs HAVING COUNT(*) > 0",
    "INSERT INTO rm_job_counts (id, n, last_position) SELECT 'status=' || status, \
     COUNT(*), MAX(last_position) FROM rm_jobs GROUP BY status",
    "INSERT INTO rm_job_counts (id, n, last_position) SELECT 'job_type=' || job_type, \
     COUNT(*), MAX(last_position) FROM rm_jobs GROUP BY job_type",
    "INSERT INTO rm_job_counts (id, n, last_position) SELECT 'cluster_id=' || cluster_id, \
     COUNT(*), MAX(last_position) FROM rm_jobs GROUP BY cluster_id",
];

/// Counts the rows of every list again, in one transaction: for rows written other than
/// by the projections (a test's fill, a repair by hand). The projections keep the counts
/// themselves.
pub async fn recount(db: &ReadDb) -> Result<(), ProjectionError> {
    let mut tx = db.begin().await?;
    for sql in RECOUNT {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every kept count of `def`'s live table, by key (zeros left out).
pub async fn stored(db: &ReadDb, def: &TableDef) -> Result<BTreeMap<String, i64>, ProjectionError> {
    let sql = format!("SELECT id, n FROM {} WHERE n <> 0", def.name);
    let mut counts = BTreeMap::new();
    for row in sqlx::query(&sql).fetch_all(db.pool()).await? {
        counts.insert(row.try_get("id")?, row.try_get("n")?);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in aggregate: its row is in `""` and `status=<status>` while live.
    #[derive(Debug, Clone, Default)]
    struct Thing {
        status: &'static str,
        live: bool,
    }

    fn keys(loaded: &Loaded<Thing>) -> Vec<String> {
        match loaded.state.live {
            true => vec![ALL.to_owned(), key("status", loaded.state.status)],
            false => Vec::new(),
        }
    }

    fn count(counts: &Counts, key: &str) -> i64 {
        counts.keys.get(key).map_or(0, |(n, _)| *n)
    }

    fn to(
        status: &'static str,
        live: bool,
    ) -> impl FnOnce(&mut Loaded<Thing>) -> Result<(), ProjectionError> {
        move |t| {
            t.state = Thing { status, live };
            Ok(())
        }
    }

    #[test]
    fn a_row_moves_between_counts_as_its_keys_change() {
        let mut counts = Counts::default();
        let (mut a, mut b) = (Loaded::<Thing>::default(), Loaded::<Thing>::default());
        counts.step(keys, &mut a, 1, to("up", true)).unwrap();
        counts.step(keys, &mut b, 2, to("up", true)).unwrap();
        counts.step(keys, &mut a, 3, to("down", true)).unwrap();
        assert_eq!(
            (
                count(&counts, ALL),
                count(&counts, "status=up"),
                count(&counts, "status=down")
            ),
            (2, 1, 1)
        );
        counts.step(keys, &mut b, 4, to("up", false)).unwrap();
        assert_eq!((count(&counts, ALL), count(&counts, "status=up")), (1, 0));
        let positions: Vec<_> = counts.rows().into_iter().map(|r| r[2].clone()).collect();
        assert_eq!(
            positions,
            vec![Value::Int(4), Value::Int(3), Value::Int(4)],
            "each key keeps the last event that moved a row into or out of it"
        );
    }

    #[test]
    fn an_event_that_keeps_the_keys_moves_nothing() {
        let mut counts = Counts::default();
        let mut a = Loaded::<Thing>::default();
        counts.step(keys, &mut a, 1, to("up", false)).unwrap();
        assert!(counts.is_empty());
        counts.step(keys, &mut a, 2, to("up", true)).unwrap();
        let before = counts.clone();
        counts.step(keys, &mut a, 3, to("up", true)).unwrap();
        assert_eq!(counts, before);
    }

    #[test]
    fn a_failed_event_moves_nothing() {
        let mut counts = Counts::default();
        let mut a = Loaded::<Thing>::default();
        let failed = counts.step(keys, &mut a, 1, |_| {
            Err(ProjectionError::Rejected("no".into()))
        });
        assert!(failed.is_err());
        assert!(counts.is_empty());
    }
}
