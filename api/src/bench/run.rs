//! Which benchmark runs, and the scratch databases they run on.

use std::future::Future;

use anyhow::Context;
use sqlx::{Connection, PgConnection};

use crate::cli::{BenchArgs, BenchKind};

/// Runs the benchmark named in `args`.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.what {
        BenchKind::Append => crate::bench::append::run(&args).await,
        BenchKind::Rebuild => {
            let (events, cqrs, rounds) = (args.most_events(), !args.without_cqrs, args.rounds);
            let measure = |url| crate::bench::rebuild::measure(url, events, cqrs, rounds);
            match &args.keep_database {
                Some(name) => measure(kept(&args.database_url, name).await?).await,
                None => with_scratch(&args.database_url, measure).await,
            }
        }
        BenchKind::Relay => {
            let events = args.most_events();
            with_scratch(&args.database_url, |url| {
                crate::bench::relay::measure(url, events)
            })
            .await
        }
        BenchKind::Jobs => {
            let clients = args.clients_or(&crate::bench::append::DEFAULT_CLIENTS);
            let (jobs, workers) = (args.jobs, clients.first().copied().unwrap_or(4));
            with_scratch(&args.database_url, |url| {
                crate::bench::jobs::measure(url, jobs, workers)
            })
            .await
        }
        BenchKind::System => crate::bench::system::run(&args).await,
        BenchKind::Autoscale => {
            let (clusters, rounds) = (args.clusters, args.rounds);
            with_scratch(&args.database_url, |url| {
                crate::bench::autoscale::measure(url, clusters, rounds)
            })
            .await
        }
        BenchKind::Metrics => {
            let sizes = crate::bench::metrics::Sizes {
                samples: args.samples,
                series_samples: args.series_samples,
                queries: args.queries,
                clients: args.clients_or(&[4])[0],
            };
            with_scratch(&args.database_url, |url| {
                crate::bench::metrics::measure(url, sizes)
            })
            .await
        }
    }
}

/// Creates a scratch database next to the one `url` names, runs `body` on it, drops it.
async fn with_scratch<T, F, Fut>(url: &str, body: F) -> anyhow::Result<T>
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let scratch = Scratch::create(url).await?;
    let result = body(scratch.url.clone()).await;
    scratch.drop_database().await;
    result
}

/// A scratch database next to the one a URL names.
pub(crate) struct Scratch {
    admin: PgConnection,
    name: String,
    /// Its URL.
    pub url: String,
}

impl Scratch {
    /// Creates a scratch database on the server `url` names.
    pub async fn create(url: &str) -> anyhow::Result<Self> {
        let name = format!("cg_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(url)
            .await
            .context("connect to PostgreSQL")?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let url = replace_database(url, &name);
        Ok(Self { admin, name, url })
    }

    /// Creates a scratch database as a copy of the database `template` on the server
    /// `url` names (`CREATE DATABASE … TEMPLATE`, a file copy); sessions still connected
    /// to `template` are ended first, as the copy needs it alone.
    pub async fn copy_of(url: &str, template: &str) -> anyhow::Result<Self> {
        let name = format!("cg_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(url)
            .await
            .context("connect to PostgreSQL")?;
        let mut attempts = 0;
        loop {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
            )
            .bind(template)
            .execute(&mut admin)
            .await?;
            let create = format!("CREATE DATABASE {name} TEMPLATE {template}");
            match sqlx::query(&create).execute(&mut admin).await {
                Ok(_) => break,
                Err(error) if attempts < 10 => {
                    tracing::debug!(%error, "copying the database, again");
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(error) => return Err(error).context("copy the kept database"),
            }
        }
        let url = replace_database(url, &name);
        Ok(Self { admin, name, url })
    }

    /// Drops it (closing whatever is still connected to it).
    pub async fn drop_database(mut self) {
        let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = sqlx::query(&drop).execute(&mut self.admin).await;
    }
}

/// The URL of database `name` next to the one `url` names, created when missing (and kept).
pub(crate) async fn kept(url: &str, name: &str) -> anyhow::Result<String> {
    let mut admin = PgConnection::connect(url)
        .await
        .context("connect to PostgreSQL")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(name)
            .fetch_one(&mut admin)
            .await?;
    if !exists {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
    }
    Ok(replace_database(url, name))
}

/// `url` with its database name replaced.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{database}?{q}"),
        None => format!("{root}/{database}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_urls_keep_host_and_options() {
        assert_eq!(
            replace_database("postgres://u:p@h:5432/postgres?sslmode=disable", "x"),
            "postgres://u:p@h:5432/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
