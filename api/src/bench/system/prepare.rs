//! Each level's database: created (or kept, and copied), prefilled by the loader.

use std::path::Path;
use std::time::Instant;

use engine::store;

use super::baseline::Database;
use super::loader::{self, Template};
use super::server::Server;
use crate::bench::Scratch;

/// Where each level's database comes from.
pub enum Source<'a> {
    /// A scratch PostgreSQL database per level, dropped afterwards.
    Scratch { admin: &'a str },
    /// A kept database per level (`<name>_<events>`), filled and caught up once; each run
    /// measures on a copy of it, so that its log stays at its size.
    Kept { admin: &'a str, name: &'a str },
    /// A SQLite file per level in `dir`.
    Sqlite { dir: &'a Path },
}

/// A database prefilled for one level, ready to be measured.
pub struct Prepared {
    pub url: String,
    pub database: Database,
    /// Dropped after the level.
    pub scratch: Option<Scratch>,
    pub head: i64,
    pub appended: i64,
    pub prefill_s: f64,
    /// The catch-up, when it ran before the copy was taken (`Source::Kept`).
    pub catch_up_s: Option<f64>,
}

/// The database of one level, with at least `events` events in its log.
pub async fn prepare(
    source: &Source<'_>,
    events: i64,
    template: &Template,
    dir: &Path,
) -> anyhow::Result<Prepared> {
    match source {
        Source::Scratch { admin } => {
            let scratch = Scratch::create(admin).await?;
            let filled = prefill(&scratch.url, events, template).await;
            let url = scratch.url.clone();
            match filled {
                Ok((head, appended, prefill_s)) => Ok(Prepared {
                    database: Database::Postgres(url.clone()),
                    url,
                    scratch: Some(scratch),
                    head,
                    appended,
                    prefill_s,
                    catch_up_s: None,
                }),
                Err(error) => {
                    scratch.drop_database().await;
                    Err(error)
                }
            }
        }
        Source::Kept { admin, name } => {
            let kept_name = format!("{name}_{events}");
            let url = crate::bench::kept(admin, &kept_name).await?;
            let (head, appended, prefill_s) = prefill(&url, events, template).await?;
            let started = Instant::now();
            let server = Server::start(&url, dir, 1).await?;
            server.wait_caught_up().await?;
            server.stop().await?;
            let catch_up_s = started.elapsed().as_secs_f64();
            let copy = Scratch::copy_of(admin, &kept_name).await?;
            eprintln!("{events}: measuring on a copy of {kept_name}");
            Ok(Prepared {
                database: Database::Postgres(copy.url.clone()),
                url: copy.url.clone(),
                scratch: Some(copy),
                head,
                appended,
                prefill_s,
                catch_up_s: Some(catch_up_s),
            })
        }
        Source::Sqlite { dir } => {
            let file = dir.join(format!("system-{events}.db"));
            let url = format!("sqlite://{}", file.display());
            let (head, appended, prefill_s) = prefill(&url, events, template).await?;
            Ok(Prepared {
                database: Database::Sqlite(file),
                url,
                scratch: None,
                head,
                appended,
                prefill_s,
                catch_up_s: None,
            })
        }
    }
}

/// Migrates the database `url` and appends copies of `template` until its log holds at
/// least `events` events: (head, events appended, seconds taken).
async fn prefill(url: &str, events: i64, template: &Template) -> anyhow::Result<(i64, i64, f64)> {
    let store = store::connect(url, 8).await?;
    store.migrate().await?;
    projections::ReadDb::connect(url, 2)
        .await?
        .migrate()
        .await?;
    let started = Instant::now();
    let appended = loader::fill(&store, template, events).await?;
    let prefill_s = started.elapsed().as_secs_f64();
    let head = store.head().await?;
    eprintln!("{events}: log at {head} events ({appended} appended in {prefill_s:.1} s)");
    Ok((head, appended, prefill_s))
}
