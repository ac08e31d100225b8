//! The trigram indexes behind `?search=` (a case-insensitive substring of a name), one per
//! backend:
//!
//! - PostgreSQL: a GIN index on `lower(<column>)` with `gin_trgm_ops` (extension
//!   `pg_trgm`), which serves `lower(<column>) LIKE '%…%'` (and `'…%'`) as the list query
//!   writes it. Without the extension (a database that refuses `CREATE EXTENSION`) the
//!   search still answers, unindexed, and a warning says so. Its pending list is merged
//!   into the index on a clock ([`pg_merge_pending`], run by the projection runtime),
//!   with [`PENDING_LIST_KB`] as the bound between two merges.
//! - SQLite: an FTS5 table `<table>_search` with `tokenize='trigram'`, keyed by the rowid of
//!   the row it indexes and kept up by three triggers, plus an index on `lower(<column>)`
//!   for searches of one or two characters (too short for a trigram), which match the
//!   start of the name on both backends.
//!
//! A table's search objects are created with its other secondary indexes (after a bulk
//! fill, see [`super::index_all`]), dropped with it ([`TableDef::drop`]) and follow it through
//! a rebuild's swap ([`rename_shadow`]).

use sqlx::AnyConnection;

use super::TableDef;
use crate::{ProjectionError, ReadDb, Target};

/// The trigram indexes' `gin_pending_list_limit`, in kB: the most a pending list holds
/// before the insert that outgrows it merges it.
///
/// A GIN index puts new entries in a pending list, and every search reads the whole list
/// besides the index: at PostgreSQL's default of 4 MB the list held about 20,000 names'
/// trigrams, compared one by one on each search (13 ms for a search that takes 0.3 ms once
/// they are merged). A merge costs per trigram it touches, not per row: each common
/// trigram's posting list is decoded, extended and compressed again, and written whole to
/// the WAL. A small limit made every insert pay for frequent small merges (at 64 kB, a
/// merge every ~200 names: 6.5 kB of WAL and ~25 µs of the database's CPU per name
/// created, a fifth of its work). So the projection runtime merges the lists once a second
/// while their tables are written ([`pg_merge_pending`]): a search reads at most a
/// second's worth of new names, and a merge takes in all of them. This limit is the
/// bound when names arrive faster than that (a 1 MB list: 128 pages).
pub const PENDING_LIST_KB: u32 = 1024;

/// Merges the pending lists of the trigram indexes of the live `tables` into the indexes
/// (PostgreSQL, `gin_clean_pending_list`, which leaves reads and writes of the table
/// running); returns the pages merged. The indexes are found in the catalog, so a table
/// swapped in by a rebuild is merged as well.
pub async fn pg_merge_pending(
    db: &ReadDb,
    tables: &[&'static str],
) -> Result<i64, ProjectionError> {
    if tables.is_empty() {
        return Ok(0);
    }
    // The names are the tables' own constants, not input.
    let names: Vec<String> = tables.iter().map(|t| format!("'{t}'")).collect();
    let sql = format!(
        "SELECT COALESCE(SUM(gin_clean_pending_list(i.indexrelid)), 0)::int8 \
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid \
         JOIN pg_am a ON a.oid = c.relam JOIN pg_class t ON t.oid = i.indrelid \
         WHERE a.amname = 'gin' AND t.relnamespace = current_schema()::regnamespace \
         AND t.relname IN ({})",
        names.join(", ")
    );
    Ok(sqlx::query_scalar(&sql).fetch_one(db.pool()).await?)
}

/// The base name of `table`'s FTS5 table (SQLite).
pub fn fts_base(table: &TableDef) -> String {
    format!("{}_search", table.name)
}

/// The PostgreSQL statement creating `table`'s trigram index in `target`, if it searches.
pub fn pg_index(table: &TableDef, target: &Target, generation: &str) -> Option<String> {
    table.search.map(|column| {
        format!(
            "CREATE INDEX IF NOT EXISTS {}_search_{generation} ON {} \
             USING gin (lower({column}) gin_trgm_ops) \
             WITH (gin_pending_list_limit = {PENDING_LIST_KB})",
            table.name,
            target.table(table.name)
        )
    })
}

/// Makes sure `pg_trgm` is installed; false (with a warning) when the database refuses it.
pub async fn pg_extension(db: &ReadDb) -> Result<bool, ProjectionError> {
    let created = sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        .execute(db.pool())
        .await;
    let found: Option<i32> =
        sqlx::query_scalar("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            .fetch_optional(db.pool())
            .await?;
    if found.is_none() {
        let error = created.err().map(|e| e.to_string()).unwrap_or_default();
        tracing::warn!(%error, "pg_trgm is not available: ?search= lists are not indexed");
    }
    Ok(found.is_some())
}

/// Creates `table`'s FTS5 table in `target` (SQLite) unless it exists: filled from the rows
/// already there, then kept up by triggers, with the index on `lower(<column>)` beside it.
pub async fn sqlite_ensure(
    conn: &mut AnyConnection,
    table: &TableDef,
    target: &Target,
    generation: &str,
) -> Result<(), ProjectionError> {
    let Some(column) = table.search else {
        return Ok(());
    };
    let fts = fts_base(table);
    let (prefix, master) = match target {
        Target::Schema(schema) => (
            format!("{}.", schema.as_str()),
            format!("{}.sqlite_master", schema.as_str()),
        ),
        _ => (String::new(), "sqlite_master".to_owned()),
    };
    let bare_fts = target.bare_table(&fts);
    let found: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT 1 FROM {master} WHERE type = 'table' AND name = $1"
    ))
    .bind(&bare_fts)
    .fetch_optional(&mut *conn)
    .await?;
    if found.is_some() {
        return Ok(());
    }
    let bare = target.bare_table(table.name);
    let statements = [
        format!("CREATE VIRTUAL TABLE {prefix}{bare_fts} USING fts5({column}, tokenize='trigram')"),
        format!(
            "INSERT INTO {prefix}{bare_fts} (rowid, {column}) SELECT rowid, {column} FROM {}",
            target.table(table.name)
        ),
        format!(
            "CREATE TRIGGER {prefix}{bare_fts}_ins_{generation} AFTER INSERT ON {bare} BEGIN \
             INSERT INTO {bare_fts} (rowid, {column}) VALUES (new.rowid, new.{column}); END"
        ),
        format!(
            "CREATE TRIGGER {prefix}{bare_fts}_upd_{generation} AFTER UPDATE OF {column} ON {bare} \
             BEGIN UPDATE {bare_fts} SET {column} = new.{column} WHERE rowid = new.rowid; END"
        ),
        format!(
            "CREATE TRIGGER {prefix}{bare_fts}_del_{generation} AFTER DELETE ON {bare} BEGIN \
             DELETE FROM {bare_fts} WHERE rowid = old.rowid; END"
        ),
        format!(
            "CREATE INDEX IF NOT EXISTS {prefix}{}_prefix_{generation} ON {bare} (lower({column}))",
            table.name
        ),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// In a rebuild's swap on SQLite, once the live table is dropped (its FTS table with it)
/// and the shadow renamed into its place: renames the shadow's FTS table too (SQLite
/// rewrites the triggers that name it).
pub async fn rename_shadow(
    conn: &mut AnyConnection,
    table: &TableDef,
) -> Result<(), ProjectionError> {
    if table.search.is_none() {
        return Ok(());
    }
    let fts = fts_base(table);
    let sql = format!("ALTER TABLE {} RENAME TO {fts}", Target::Shadow.table(&fts));
    sqlx::query(&sql).execute(conn).await?;
    Ok(())
}

/// The live tables' search objects, made at start (after the migrations) unless they
/// exist: the migrations are portable SQL, these are not.
pub async fn ensure_live(db: &ReadDb, tables: &[&TableDef]) -> Result<(), ProjectionError> {
    if db.is_sqlite() {
        let mut tx = db.begin().await?;
        for table in tables {
            sqlite_ensure(&mut tx, table, &Target::Live, "idx").await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    if !pg_extension(db).await? {
        return Ok(());
    }
    for table in tables {
        let Some(sql) = pg_index(table, &Target::Live, "idx") else {
            continue;
        };
        if let Some(index) = pg_search_index(db, table).await? {
            pg_limit_pending_list(db, &index).await?;
            continue;
        }
        // Two processes starting together may race on the name: the loser finds it made.
        if let Err(error) = sqlx::query(&sql).execute(db.pool()).await {
            if pg_search_index(db, table).await?.is_none() {
                return Err(error.into());
            }
        }
    }
    Ok(())
}

/// The live `table`'s trigram index (made at start, `_idx`, or by a rebuild), if any.
async fn pg_search_index(
    db: &ReadDb,
    table: &TableDef,
) -> Result<Option<SearchIndex>, ProjectionError> {
    let pattern = format!("{}\\_search\\_%", table.name);
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, COALESCE(array_to_string(c.reloptions, ','), '') \
         FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid \
         JOIN pg_class t ON t.oid = i.indrelid \
         WHERE c.relnamespace = current_schema()::regnamespace \
         AND t.relname = $1 AND c.relname LIKE $2",
    )
    .bind(table.name)
    .bind(&pattern)
    .fetch_optional(db.pool())
    .await?;
    Ok(found.map(|(name, options)| SearchIndex { name, options }))
}

/// A trigram index as the catalog has it.
struct SearchIndex {
    name: String,
    /// Its storage parameters, `name=value` joined by commas.
    options: String,
}

/// Sets [`PENDING_LIST_KB`] on an index made with another limit (an earlier version's).
async fn pg_limit_pending_list(db: &ReadDb, index: &SearchIndex) -> Result<(), ProjectionError> {
    let wanted = format!("gin_pending_list_limit={PENDING_LIST_KB}");
    if index.options.split(',').any(|option| option == wanted) {
        return Ok(());
    }
    let sql = format!(
        "ALTER INDEX \"{}\" SET (gin_pending_list_limit = {PENDING_LIST_KB})",
        index.name
    );
    sqlx::query(&sql).execute(db.pool()).await?;
    tracing::info!(index = %index.name, "trigram index: pending list limited");
    Ok(())
}
