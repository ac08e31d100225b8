//! The read-model tables as data, so a rebuild or a replay can create fresh copies of them
//! in any [`Target`]. The live tables were created by the migrations with the same columns
//! (`projections/migrations`); `tests/rebuild.rs` checks that the two agree.

use sqlx::AnyConnection;

use super::search;
use crate::{ProjectionError, ReadDb, Target};

/// One read-model table.
#[derive(Debug)]
pub struct TableDef {
    /// Base name (the live table's).
    pub name: &'static str,
    /// Column definitions, the first word of each being the column's name; the first
    /// column is the primary key.
    pub columns: &'static [&'static str],
    /// Secondary indexes.
    pub indexes: &'static [Index],
    /// The column `?search=` looks into, if any: it gets a trigram index (see
    /// [`super::search`]).
    pub search: Option<&'static str>,
    /// A table whose rows must change together with another table's (a sum over that
    /// table's rows): a bulk fill writes it in the other table's transaction.
    pub loaded_with: Option<&'static str>,
}

/// A secondary index: the list queries' filters and sort (see `crate::lists`) are served
/// by one each, so a list reads its page in index order and stops.
#[derive(Debug)]
pub struct Index {
    /// Short name: the index is `<table>_<short>_<generation>` (`_idx` on the live tables
    /// the migrations create).
    pub short: &'static str,
    /// Column list.
    pub columns: &'static str,
    /// A partial index's predicate, written exactly as the queries write it.
    pub filter: Option<&'static str>,
}

/// An index on `columns` over every row.
const fn full(short: &'static str, columns: &'static str) -> Index {
    Index {
        short,
        columns,
        filter: None,
    }
}

/// An index on `columns` over the rows matching `filter`.
const fn partial(short: &'static str, columns: &'static str, filter: &'static str) -> Index {
    Index {
        short,
        columns,
        filter: Some(filter),
    }
}

impl TableDef {
    /// The table whose transaction a bulk fill writes this one in (itself, usually).
    pub fn load_group(&self) -> &'static str {
        self.loaded_with.unwrap_or(self.name)
    }

    /// The column names.
    pub fn column_names(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .map(|c| c.split_whitespace().next().unwrap_or(c))
            .collect()
    }

    /// The column that is the primary key.
    pub fn primary_key(&self) -> &'static str {
        self.columns
            .iter()
            .find(|c| c.contains("PRIMARY KEY"))
            .and_then(|c| c.split_whitespace().next())
            .unwrap_or("id")
    }

    /// Creates the table (with its primary key) in `target`, without its secondary
    /// indexes: a fill loads a fresh table faster without them, then calls [`index_all`].
    pub async fn create_table(
        &self,
        conn: &mut AnyConnection,
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let table = target.table(self.name);
        let create = format!("CREATE TABLE {table} ({})", self.columns.join(", "));
        sqlx::query(&create).execute(&mut *conn).await?;
        Ok(())
    }

    /// The statements creating the table's secondary indexes in `target` unless they
    /// exist; index names carry `generation` so that a copy never collides with the
    /// indexes of the table it will replace.
    pub fn index_statements(&self, target: &Target, sqlite: bool, generation: &str) -> Vec<String> {
        let table = target.table(self.name);
        self.indexes
            .iter()
            .map(|index| {
                let name = format!("{}_{}_{generation}", self.name, index.short);
                let columns = index.columns;
                let filter = index
                    .filter
                    .map(|f| format!(" WHERE {f}"))
                    .unwrap_or_default();
                match (target, sqlite) {
                    // SQLite names the schema on the index, PostgreSQL on the table.
                    (Target::Schema(schema), true) => format!(
                        "CREATE INDEX IF NOT EXISTS {}.{name} ON {} ({columns}){filter}",
                        schema.as_str(),
                        target.bare_table(self.name)
                    ),
                    _ => {
                        format!("CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns}){filter}")
                    }
                }
            })
            .collect()
    }

    /// Drops the table in `target` if it exists, with its search table (SQLite).
    pub async fn drop(
        &self,
        conn: &mut AnyConnection,
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let sql = format!("DROP TABLE IF EXISTS {}", target.table(self.name));
        sqlx::query(&sql).execute(&mut *conn).await?;
        if self.search.is_some() {
            let fts = target.table(&search::fts_base(self));
            sqlx::query(&format!("DROP TABLE IF EXISTS {fts}"))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }
}

/// `rm_clusters`.
pub const CLUSTERS: TableDef = TableDef {
    name: "rm_clusters",
    columns: &[
        "id TEXT PRIMARY KEY",
        "name TEXT NOT NULL",
        "region TEXT NOT NULL",
        "status TEXT NOT NULL",
        "deleted BIGINT NOT NULL",
        "created_at TEXT NOT NULL",
        "state TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[
        partial("created", "created_at, id", LIVE_CLUSTER),
        partial("name", "name, id", LIVE_CLUSTER),
        partial("region", "region, id", LIVE_CLUSTER),
        partial("status_created", "status, created_at, id", LIVE_CLUSTER),
        partial("status_name", "status, name, id", LIVE_CLUSTER),
        partial("status_region", "status, region, id", LIVE_CLUSTER),
    ],
    search: Some("name"),
    loaded_with: None,
};

/// `rm_cluster_counts`: the clusters list's counts (see [`super::list_counts`]).
pub const CLUSTER_COUNTS: TableDef =
    super::list_counts::count_table("rm_cluster_counts", "rm_clusters");

/// The clusters a list shows (deleted ones stay as rows).
pub const LIVE_CLUSTER: &str = "deleted = 0";

/// `rm_droplets`.
pub const DROPLETS: TableDef = TableDef {
    name: "rm_droplets",
    columns: &[
        "id TEXT PRIMARY KEY",
        "cluster_id TEXT NOT NULL",
        "name TEXT NOT NULL",
        "status TEXT NOT NULL",
        "created_at TEXT NOT NULL",
        "state TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[
        partial("live_created", "created_at, id", LIVE_DROPLET),
        partial("live_name", "name, id", LIVE_DROPLET),
        partial("live_status", "status, id", LIVE_DROPLET),
        partial(
            "live_cluster_created",
            "cluster_id, created_at, id",
            LIVE_DROPLET,
        ),
        partial("live_cluster_name", "cluster_id, name, id", LIVE_DROPLET),
        partial(
            "live_cluster_status",
            "cluster_id, status, id",
            LIVE_DROPLET,
        ),
        full("status_created", "status, created_at, id"),
        full("status_name", "status, name, id"),
        full("status_id", "status, id"),
        full(
            "cluster_status_created",
            "cluster_id, status, created_at, id",
        ),
        full("cluster_status_name", "cluster_id, status, name, id"),
        full("cluster_status_id", "cluster_id, status, id"),
    ],
    search: Some("name"),
    loaded_with: None,
};

/// The droplets a list shows unless it asks for a status (destroyed ones stay as rows).
pub const LIVE_DROPLET: &str = "status <> 'destroyed'";

/// `rm_droplet_cluster_names`: the droplets projection's own copy of cluster names.
pub const DROPLET_CLUSTER_NAMES: TableDef = TableDef {
    name: "rm_droplet_cluster_names",
    columns: &[
        "cluster_id TEXT PRIMARY KEY",
        "name TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[],
    search: None,
    loaded_with: None,
};

/// `rm_billing_totals`: the droplets projection's count of billed droplets per provider,
/// region and size (see [`super::billing`]); one row per combination ever billed, so the
/// fleet's bill reads a few hundred rows at most, however many droplets there are. `id` is
/// `provider/region/size`.
pub const BILLING_TOTALS: TableDef = TableDef {
    name: "rm_billing_totals",
    columns: &[
        "id TEXT PRIMARY KEY",
        "provider TEXT NOT NULL",
        "region TEXT NOT NULL",
        "size TEXT NOT NULL",
        "droplet_count BIGINT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[],
    search: None,
    loaded_with: Some("rm_droplets"),
};

/// `rm_droplet_counts`: the droplets list's counts (see [`super::list_counts`]).
pub const DROPLET_COUNTS: TableDef =
    super::list_counts::count_table("rm_droplet_counts", "rm_droplets");

/// `rm_job_counts`: the jobs list's counts (see [`super::list_counts`]).
pub const JOB_COUNTS: TableDef = super::list_counts::count_table("rm_job_counts", "rm_jobs");

/// `rm_jobs`.
pub const JOBS: TableDef = TableDef {
    name: "rm_jobs",
    columns: &[
        "id TEXT PRIMARY KEY",
        "job_type TEXT NOT NULL",
        "cluster_id TEXT NOT NULL",
        "status TEXT NOT NULL",
        "created_at TEXT NOT NULL",
        "state TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
        // Added by a later migration, hence last; empty for a job of no droplet.
        "droplet_id TEXT NOT NULL DEFAULT ''",
    ],
    indexes: &[
        full("created", "created_at, id"),
        full("cluster_created", "cluster_id, created_at, id"),
        full("status_created", "status, created_at, id"),
        full("type_created", "job_type, created_at, id"),
        full(
            "cluster_status_created",
            "cluster_id, status, created_at, id",
        ),
        full(
            "cluster_type_created",
            "cluster_id, job_type, created_at, id",
        ),
        full("status_type_created", "status, job_type, created_at, id"),
        full(
            "cluster_status_type_created",
            "cluster_id, status, job_type, created_at, id",
        ),
        full("cluster_id", "cluster_id, id"),
        full("status_id", "status, id"),
        full("type_id", "job_type, id"),
        full("cluster_status_id", "cluster_id, status, id"),
        full("cluster_type_id", "cluster_id, job_type, id"),
        full("status_type_id", "status, job_type, id"),
        full("cluster_status_type_id", "cluster_id, status, job_type, id"),
        // A droplet has few jobs: its index serves every other filter combined with it.
        full("droplet_created", "droplet_id, created_at, id"),
        full("droplet_id", "droplet_id, id"),
    ],
    search: None,
    loaded_with: None,
};

/// `rm_providers`: registered provider configurations.
pub const PROVIDERS: TableDef = TableDef {
    name: "rm_providers",
    columns: &[
        "id TEXT PRIMARY KEY",
        "created_at TEXT NOT NULL",
        "view TEXT NOT NULL",
        "state TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[],
    search: None,
    loaded_with: None,
};

/// `rm_ratelimit_rules`.
pub const RATELIMIT_RULES: TableDef = TableDef {
    name: "rm_ratelimit_rules",
    columns: &[
        "id TEXT PRIMARY KEY",
        "configured BIGINT NOT NULL",
        "view TEXT NOT NULL",
        "state TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[full("configured", "configured, id")],
    search: None,
    loaded_with: None,
};

/// Creates the secondary indexes of `tables` in `target` (see
/// [`TableDef::index_statements`]) and their search indexes ([`search`]): on PostgreSQL
/// every index at the same time, each on a connection of its own (a fill's copies are
/// indexed once loaded, and the builds share nothing); on SQLite one after another in one
/// transaction.
pub async fn index_all(
    db: &ReadDb,
    tables: &[&TableDef],
    target: &Target,
    generation: &str,
) -> Result<(), ProjectionError> {
    let statements = tables
        .iter()
        .flat_map(|t| t.index_statements(target, db.is_sqlite(), generation));
    if db.is_sqlite() {
        let mut tx = db.begin().await?;
        for sql in statements {
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
        for table in tables {
            search::sqlite_ensure(&mut tx, table, target, generation).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    let trigram = if tables.iter().any(|t| t.search.is_some()) {
        search::pg_extension(db).await?
    } else {
        false
    };
    let searches = tables
        .iter()
        .filter(|_| trigram)
        .filter_map(|t| search::pg_index(t, target, generation));
    let builds = statements.chain(searches).map(|sql| async move {
        sqlx::query(&sql).execute(db.pool()).await?;
        Ok::<_, ProjectionError>(())
    });
    futures::future::try_join_all(builds).await?;
    Ok(())
}
