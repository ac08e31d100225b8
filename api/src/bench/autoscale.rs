//! `clustergenie bench autoscale`: auto-scaling rounds over many clusters.
//!
//! On a scratch PostgreSQL database, `--clusters` clusters (default 10,000) are loaded
//! straight into the read models (a fast loader: `rm_clusters`, `rm_droplets` with one
//! active droplet each, and `rm_autoscaling` with a `metrics` policy on cpu, rows written
//! with `UNNEST`, not through commands) and given `SAMPLES` cpu samples each over the
//! last minute, averaging inside their policy's band, so every round decides `none`
//! (`within_band`) for every cluster: a round's cost is its reads, its decisions and its
//! history writes, not scale jobs. Then `--rounds` rounds (default 3) of
//! [`Autoscaler::run_once`] are timed, and as the baseline, in the same run, as many
//! single `window_summaries` queries of the metrics table over the same window (the one
//! statement every health check round runs). Printed: p50 and max per round, the
//! statements of a round and per cluster.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use engine::autoscaling::{connect_autoscaling, Autoscaler};
use engine::domain::autoscaler::Trigger;
use engine::domain::cluster::{AutoscalingPolicy, PolicyInput};
use engine::domain::{
    Cluster, ClusterId, ClusterName, Droplet, DropletId, DropletName, DropletStatus, Image,
    MetricType, ProviderName, Region, Size,
};
use engine::fold::Loaded;
use engine::metrics::{MetricSample, MetricsStore, PgMetricsStore};
use engine::provider::{Providers, SimSpeed};
use projections::{AutoscalingReadDirectory, ReadDb};
use sqlx::PgPool;

use crate::runtime;
use crate::settings::Settings;

/// Samples per cluster.
const SAMPLES: usize = 6;
/// Rows per loading statement.
const CHUNK: usize = 2_000;
/// The policies' evaluation window, in seconds.
const WINDOW: i64 = 60;

/// Loads `clusters` clusters and times `rounds` rounds on the scratch database `url`.
pub async fn measure(url: String, clusters: usize, rounds: usize) -> anyhow::Result<()> {
    let rounds = rounds.max(1);
    println!("# bench autoscale: {clusters} clusters with a metrics policy, {rounds} rounds");
    let store = engine::store::connect(&url, 8).await?;
    store.migrate().await?;
    let db = ReadDb::connect(&url, 8).await?;
    db.migrate().await?;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    let started = Instant::now();
    load(&pool, clusters).await?;
    println!(
        "loaded {clusters} clusters, droplets, policies and {} samples in {:.1} s",
        clusters * SAMPLES,
        started.elapsed().as_secs_f64()
    );
    let settings = Settings {
        database_url: Some(url.clone()),
        ..Settings::default()
    };
    let commands = runtime::commands(&settings, &store)?;
    let autoscaler = Autoscaler::new(
        Arc::new(AutoscalingReadDirectory::new(db)),
        connect_autoscaling(&url, 4).await?,
        commands,
        Arc::new(Providers::new(SimSpeed::new(1.0)?, 1)),
    );
    let mut took = Vec::with_capacity(rounds);
    let mut statements = 0;
    for _ in 0..rounds {
        let begun = Instant::now();
        let report = autoscaler.run_once(Utc::now(), Trigger::Schedule).await?;
        took.push(begun.elapsed());
        statements = report.statements;
        anyhow::ensure!(
            report.clusters == clusters,
            "a round evaluated {} clusters of {clusters}",
            report.clusters
        );
    }
    let metrics = PgMetricsStore::new(pool.clone());
    let mut baseline = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let begun = Instant::now();
        let since = Utc::now() - chrono::Duration::seconds(WINDOW);
        metrics.window_summaries(since, None).await?;
        baseline.push(begun.elapsed());
    }
    report(&took, &baseline, statements, clusters);
    pool.close().await;
    Ok(())
}

fn report(took: &[Duration], baseline: &[Duration], statements: u64, clusters: usize) {
    let (p50, max) = spread(took);
    let (base50, base_max) = spread(baseline);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| contender | p50 | max | statements per round | per cluster |");
    println!("|---|---|---|---|---|");
    println!(
        "| window_summaries, one query (baseline) | {:.1} ms | {:.1} ms | 1 | {:.5} |",
        ms(base50),
        ms(base_max),
        1.0 / clusters.max(1) as f64
    );
    println!(
        "| autoscaler round | {:.1} ms | {:.1} ms | {statements} | {:.5} |",
        ms(p50),
        ms(max),
        statements as f64 / clusters.max(1) as f64
    );
    println!(
        "round p50 / baseline p50: {:.2}x",
        ms(p50) / ms(base50).max(0.001)
    );
}

fn spread(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let p50 = sorted.get(sorted.len() / 2).copied().unwrap_or_default();
    (p50, sorted.last().copied().unwrap_or_default())
}

/// The policy every cluster gets: 1 to 3 droplets, cpu between 30 and 80 %.
fn policy() -> anyhow::Result<String> {
    let policy = AutoscalingPolicy::parse(&PolicyInput {
        policy_type: Some("metrics".into()),
        min_droplets: Some(1),
        max_droplets: Some(3),
        metric_type: Some("cpu".into()),
        scale_up_threshold: Some(80.0),
        scale_down_threshold: Some(30.0),
        evaluation_window_seconds: Some(WINDOW),
        ..PolicyInput::default()
    })
    .map_err(|e| anyhow::anyhow!("the bench policy is invalid: {e:?}"))?;
    Ok(serde_json::to_string(&policy)?)
}

/// Writes `clusters` clusters, each with one active droplet, a policy and samples.
async fn load(pool: &PgPool, clusters: usize) -> anyhow::Result<()> {
    let policy = policy()?;
    let now = Utc::now();
    let at = now.to_rfc3339_opts(SecondsFormat::Micros, true);
    let region = Region::parse("nyc1")?;
    let ids: Vec<ClusterId> = (0..clusters).map(|_| ClusterId::new()).collect();
    let metrics = PgMetricsStore::new(pool.clone());
    for chunk in ids.chunks(CHUNK) {
        let mut rows = Rows::default();
        for (i, id) in chunk.iter().enumerate() {
            rows.add(id, i, region, &policy, &at)?;
        }
        rows.write(pool).await?;
        let samples: Vec<MetricSample> = chunk
            .iter()
            .flat_map(|id| {
                (0..SAMPLES).map(move |k| MetricSample {
                    cluster_id: id.clone(),
                    droplet_id: None,
                    metric_type: MetricType::Cpu,
                    value: 45.0 + (k % 3) as f64 * 5.0,
                    timestamp: now - chrono::Duration::seconds(5 + 8 * k as i64),
                })
            })
            .collect();
        metrics.insert(&samples).await?;
    }
    Ok(())
}

/// The read-model rows of a chunk of clusters, as `UNNEST` columns.
#[derive(Default)]
struct Rows {
    ids: Vec<String>,
    names: Vec<String>,
    cluster_states: Vec<String>,
    droplet_ids: Vec<String>,
    droplet_names: Vec<String>,
    droplet_states: Vec<String>,
    policies: Vec<String>,
    at: String,
}

impl Rows {
    fn add(
        &mut self,
        id: &ClusterId,
        i: usize,
        region: Region,
        policy: &str,
        at: &str,
    ) -> anyhow::Result<()> {
        let name = ClusterName::parse(&format!("bench-{i}"))?;
        let cluster = Cluster {
            id: Some(id.clone()),
            name: Some(name.clone()),
            region: Some(region),
            ..Cluster::default()
        };
        let droplet_id = DropletId::new();
        let droplet = Droplet {
            id: Some(droplet_id.clone()),
            cluster_id: Some(id.clone()),
            name: Some(DropletName::parse(&format!("bench-{i}-1"))?),
            region: Some(region),
            size: Some(Size::parse("s-1vcpu-1gb")?),
            image: Some(Image::parse("ubuntu-22-04-x64")?),
            provider: Some(ProviderName::parse("simcloud")?),
            status: DropletStatus::Active,
            ..Droplet::default()
        };
        self.ids.push(id.to_string());
        self.names.push(name.to_string());
        self.cluster_states.push(loaded(cluster)?);
        self.droplet_ids.push(droplet_id.to_string());
        self.droplet_names.push(format!("bench-{i}-1"));
        self.droplet_states.push(loaded(droplet)?);
        self.policies.push(policy.to_owned());
        at.clone_into(&mut self.at);
        Ok(())
    }

    async fn write(self, pool: &PgPool) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO rm_clusters (id, name, region, status, deleted, created_at, state, \
             last_position) SELECT id, name, 'nyc1', 'healthy', 0, $3, state, 1 \
             FROM UNNEST($1::text[], $2::text[], $4::text[]) AS t(id, name, state)",
        )
        .bind(&self.ids)
        .bind(&self.names)
        .bind(&self.at)
        .bind(&self.cluster_states)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO rm_droplets (id, cluster_id, name, status, created_at, state, \
             last_position) SELECT id, cluster_id, name, 'active', $4, state, 1 \
             FROM UNNEST($1::text[], $2::text[], $3::text[], $5::text[]) \
             AS t(id, cluster_id, name, state)",
        )
        .bind(&self.droplet_ids)
        .bind(&self.ids)
        .bind(&self.droplet_names)
        .bind(&self.at)
        .bind(&self.droplet_states)
        .execute(pool)
        .await?;
        sqlx::query(
            "INSERT INTO rm_autoscaling (cluster_id, enabled, policy, updated_at, version, \
             last_position) SELECT cluster_id, 1, policy, $3, 2, 1 \
             FROM UNNEST($1::text[], $2::text[]) AS t(cluster_id, policy)",
        )
        .bind(&self.ids)
        .bind(&self.policies)
        .bind(&self.at)
        .execute(pool)
        .await?;
        Ok(())
    }
}

/// An aggregate's state as the read models store it (one event folded).
fn loaded<A: serde::Serialize + serde::de::DeserializeOwned>(state: A) -> anyhow::Result<String> {
    let loaded = Loaded {
        state,
        version: 1,
        created_at: Some(Utc::now()),
        updated_at: Some(Utc::now()),
        last_position: 1,
        first_seen: Default::default(),
    };
    Ok(serde_json::to_string(&loaded)?)
}
