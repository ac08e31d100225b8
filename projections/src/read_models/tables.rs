//! The read-model tables as data, so a rebuild or a replay can create fresh copies of them
//! in any [`Target`]. The live tables were created by the migrations with the same columns
//! (`projections/migrations`); `tests/rebuild.rs` checks that the two agree.

use sqlx::AnyConnection;

use crate::{ProjectionError, ReadDb, Target};

/// One read-model table.
#[derive(Debug)]
pub struct TableDef {
    /// Base name (the live table's).
    pub name: &'static str,
    /// Column definitions, the first word of each being the column's name; the first
    /// column is the primary key.
    pub columns: &'static [&'static str],
    /// Secondary indexes: (short name, column list).
    pub indexes: &'static [(&'static str, &'static str)],
}

impl TableDef {
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
            .map(|(short, columns)| {
                let index = format!("{}_{short}_{generation}", self.name);
                match (target, sqlite) {
                    // SQLite names the schema on the index, PostgreSQL on the table.
                    (Target::Schema(schema), true) => format!(
                        "CREATE INDEX IF NOT EXISTS {}.{index} ON {} ({columns})",
                        schema.as_str(),
                        target.bare_table(self.name)
                    ),
                    _ => format!("CREATE INDEX IF NOT EXISTS {index} ON {table} ({columns})"),
                }
            })
            .collect()
    }

    /// Drops the table in `target` if it exists.
    pub async fn drop(
        &self,
        conn: &mut AnyConnection,
        target: &Target,
    ) -> Result<(), ProjectionError> {
        let sql = format!("DROP TABLE IF EXISTS {}", target.table(self.name));
        sqlx::query(&sql).execute(conn).await?;
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
    indexes: &[("name", "name"), ("created", "created_at")],
};

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
    indexes: &[("cluster", "cluster_id"), ("created", "created_at")],
};

/// `rm_droplet_cluster_names`: the droplets projection's own copy of cluster names.
pub const DROPLET_CLUSTER_NAMES: TableDef = TableDef {
    name: "rm_droplet_cluster_names",
    columns: &[
        "cluster_id TEXT PRIMARY KEY",
        "name TEXT NOT NULL",
        "last_position BIGINT NOT NULL",
    ],
    indexes: &[],
};

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
    ],
    indexes: &[("cluster", "cluster_id"), ("created", "created_at")],
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
    indexes: &[],
};

/// Creates the secondary indexes of `tables` in `target` (see
/// [`TableDef::index_statements`]): on PostgreSQL every index at the same time, each on a
/// connection of its own (a fill's copies are indexed once loaded, and the builds share
/// nothing); on SQLite one after another in one transaction.
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
        tx.commit().await?;
        return Ok(());
    }
    let builds = statements.map(|sql| async move {
        sqlx::query(&sql).execute(db.pool()).await?;
        Ok::<_, ProjectionError>(())
    });
    futures::future::try_join_all(builds).await?;
    Ok(())
}
