//! The `clustergenie` command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::settings::Settings;

/// ClusterGenie: an event-sourced orchestration engine for cloud clusters.
#[derive(Debug, Parser)]
#[command(name = "clustergenie", version, about)]
pub struct Cli {
    /// Settings file (TOML); `clustergenie.toml` in the working directory if present.
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API, projections and (unless --no-workers) the job executor.
    Serve(ServeArgs),
    /// Run the job runtime alone, as a member of the Kafka worker group (needs Kafka).
    Worker(WorkerArgs),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Walk the log and check every hash link; exit 1 at the first broken one.
    Verify(DatabaseArgs),
    /// Measure the engine against baselines (see docs/benchmarks.md).
    #[cfg(feature = "bench")]
    Bench(BenchArgs),
    /// Operate on the projections.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Materialise every read model as it was at a past position into a scratch schema.
    Replay(ReplayArgs),
    /// Compare a scratch schema with the live read models; exit 1 if they differ.
    Diff(DiffArgs),
    /// The published contracts: JSON Schemas per event type and version, the AsyncAPI
    /// document of the Kafka topics and the OpenAPI document of the HTTP API.
    #[command(subcommand)]
    Schemas(SchemasCommand),
    /// Seed a running server with a demo scene through its HTTP API (see docs/demo.md).
    #[cfg(feature = "demo")]
    #[command(subcommand)]
    Demo(DemoCommand),
}

/// `demo` subcommands.
#[cfg(feature = "demo")]
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Make a scene's clusters, droplets and jobs through the server's HTTP API (as the
    /// actor `demo`), wait until they have settled, and say which console pages show them.
    Load(DemoLoadArgs),
    /// The scenes, one line each.
    List,
}

/// `demo load` flags.
#[cfg(feature = "demo")]
#[derive(Debug, Clone, Args)]
pub struct DemoLoadArgs {
    /// The scene (`demo list` says what each makes).
    #[arg(value_enum)]
    pub scene: crate::demo::Scene,
    /// The running server (`clustergenie serve`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Seconds to wait for any one thing (a job, a droplet's status) before giving up.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// `schemas` subcommands.
#[derive(Debug, Subcommand)]
pub enum SchemasCommand {
    /// Generate the schema files from the Rust code and write those that changed; refuses
    /// a change to a released event schema that is not backward compatible.
    Export(SchemasArgs),
    /// Compare the schema files with the Rust types; exit 1 listing stale, missing and
    /// extra files.
    Check(SchemasArgs),
}

/// `schemas export|check` flags.
#[derive(Debug, Clone, Args)]
pub struct SchemasArgs {
    /// The schema directory (`openapi.yaml`, `asyncapi.yaml` and `events/`).
    #[arg(long, default_value = "schemas")]
    pub dir: PathBuf,
}

/// `projections` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Rebuild a projection from the log into shadow tables, then swap them in atomically
    /// (a running server keeps serving; an interrupted rebuild resumes when run again).
    Rebuild(RebuildArgs),
}

/// `projections rebuild` flags.
#[derive(Debug, Clone, Args)]
pub struct RebuildArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The projection: clusters, droplets or jobs.
    pub name: String,
}

/// `replay` flags.
#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Up to this log position, or the last position at or before this RFC 3339 time.
    #[arg(long)]
    pub to: String,
    /// Scratch schema to (re)create: `[a-z_][a-z0-9_]*` (on SQLite, `<schema>.db` next to
    /// the main database file).
    #[arg(long)]
    pub into: String,
}

/// `diff` flags.
#[derive(Debug, Clone, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// The scratch schema a `replay` created.
    pub schema: String,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `postgres://…` or `sqlite:…` (default: embedded SQLite under --data-dir).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Directory of the embedded SQLite database.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// `serve` flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Run the API alone, without the job executor.
    #[arg(long)]
    pub no_workers: bool,
    /// Simulated provider time per job, in milliseconds.
    #[arg(long)]
    pub sim_delay_ms: Option<u64>,
    /// Simulated providers' speed factor: latencies are divided by it (0: no latency).
    #[arg(long)]
    pub sim_speed: Option<f64>,
    /// Seed of the simulated providers' randomness (failures, spikes).
    #[arg(long)]
    pub sim_seed: Option<u64>,
    /// Keep the cache read models in Redis (`redis://…`; default: in process).
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Publish the log to Kafka at these brokers (`host:port,…`; default: no Kafka).
    #[arg(long)]
    pub kafka_brokers: Option<String>,
    /// Every active droplet reports simulated metric samples (seeded by --sim-seed).
    #[arg(long)]
    pub sim_load: bool,
}

/// `worker` flags.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Kafka brokers (`host:port,…`; default `KAFKA_BROKERS`).
    #[arg(long)]
    pub kafka_brokers: Option<String>,
    /// Simulated providers' speed factor: latencies are divided by it (0: no latency).
    #[arg(long)]
    pub sim_speed: Option<f64>,
    /// Run the projections (the SQL read models) in this process too, as `serve` does.
    #[arg(long)]
    pub projections: bool,
}

impl WorkerArgs {
    /// Applies the flags over loaded settings.
    pub fn apply(&self, settings: &mut Settings) {
        self.database.apply(settings);
        if self.projections {
            settings.worker_projections = true;
        }
        if let Some(brokers) = &self.kafka_brokers {
            settings.kafka.brokers = brokers.clone();
        }
        if let Some(speed) = self.sim_speed {
            settings.sim_speed = speed;
        }
    }
}

/// `bench` flags.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// What to measure.
    #[arg(value_enum, default_value = "append")]
    pub what: BenchKind,
    /// PostgreSQL to measure on (a scratch schema is created and dropped).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    /// Client counts to measure at (default 1,8,32; `system`: 1,16,64).
    #[arg(long, value_delimiter = ',')]
    pub clients: Vec<usize>,
    /// Seconds per measurement (default 5; `system`: 10).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Events in the log to rebuild from (`rebuild`) or to drain (`relay`), default
    /// 1000000; `system`: the log sizes to measure at, default 0,100000,1000000.
    #[arg(long, value_delimiter = ',')]
    pub events: Vec<i64>,
    /// Jobs to run (`jobs`; the workers are the first `--clients` value).
    #[arg(long, default_value_t = 2_000)]
    pub jobs: usize,
    /// `rebuild`: leave out the cqrs-es replay (minutes at 1M events), to iterate on the
    /// engine against COPY alone; recorded runs include it.
    #[arg(long)]
    pub without_cqrs: bool,
    /// Turns the contenders take: `rebuild`, rounds of COPY then rebuild (the median round
    /// is reported); `append`, slices each contender's `--seconds` is cut into; `system`,
    /// slices each measurement's `--seconds` is cut into, the log sizes (and, with create
    /// cluster, the raw insert) taking turns.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// `rebuild`, `system`: run on this database instead of a scratch one, and keep it:
    /// created when missing, filled only when its log holds fewer than `--events` events
    /// (to iterate without writing the log again).
    #[arg(long, value_parser = keep_database)]
    pub keep_database: Option<String>,
    /// `system`: keep each log size's measured database (PostgreSQL) after its run, as it
    /// was left by the load, to inspect it (its name is printed); dropped otherwise.
    #[arg(long)]
    pub keep_copies: bool,
    /// `system`: the backends to measure on.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "postgres")]
    pub backend: Vec<SystemBackend>,
    /// `metrics`: samples posted (and inserted raw) for the ingest ratio.
    #[arg(long, default_value_t = 100_000)]
    pub samples: usize,
    /// `metrics`: samples stored for the 24-hour series query.
    #[arg(long, default_value_t = 1_000_000)]
    pub series_samples: usize,
    /// `metrics`: series queries timed.
    #[arg(long, default_value_t = 200)]
    pub queries: usize,
    /// `autoscale`: clusters with a policy (and samples) a round evaluates.
    #[arg(long, default_value_t = 10_000)]
    pub clusters: usize,
    /// `system`: seconds PostgreSQL's commits are counted for with no load.
    #[arg(long, default_value_t = 5)]
    pub idle_seconds: u64,
    /// `system`: seconds waited before reading PostgreSQL's commit counts after activity
    /// (an idle session reports its statistics within 10 s).
    #[arg(long, default_value_t = 11)]
    pub settle_seconds: u64,
}

impl BenchArgs {
    /// `--clients`, or `default` when not given.
    pub fn clients_or(&self, default: &[usize]) -> Vec<usize> {
        match self.clients.is_empty() {
            true => default.to_vec(),
            false => self.clients.clone(),
        }
    }

    /// The largest `--events`, or 1,000,000 when not given.
    pub fn most_events(&self) -> i64 {
        self.events.iter().copied().max().unwrap_or(1_000_000)
    }
}

/// Where `bench system` runs the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SystemBackend {
    /// A scratch PostgreSQL database next to `--database-url` (or `--keep-database`).
    Postgres,
    /// A scratch SQLite file.
    Sqlite,
}

/// A database name `bench rebuild --keep-database` may create: `[a-z_][a-z0-9_]*`.
fn keep_database(name: &str) -> Result<String, String> {
    if projections::plain_identifier(name) {
        Ok(name.to_owned())
    } else {
        Err("a database name is [a-z_][a-z0-9_]*, at most 63 characters".into())
    }
}

/// Benchmarks.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BenchKind {
    /// Single-event commands: this engine vs cqrs-es + postgres-es vs a raw insert.
    Append,
    /// Rebuilding the read models from the log: this engine vs COPY vs cqrs-es replay.
    Rebuild,
    /// The Kafka relay: draining a backlog vs raw rdkafka, and commit-to-consumer latency.
    Relay,
    /// The job runtime: jobs/s through the worker pool vs no-op tasks through a tokio pool.
    Jobs,
    /// The whole server over HTTP on logs of several sizes vs a raw insert.
    System,
    /// Metric samples: ingest over HTTP vs a raw multi-row insert, and a day's series.
    Metrics,
    /// Auto-scaling rounds over many clusters vs the one query of the window summaries.
    Autoscale,
}

impl DatabaseArgs {
    /// Applies the flags over loaded settings.
    pub fn apply(&self, settings: &mut Settings) {
        if let Some(url) = &self.database_url {
            settings.database_url = Some(url.clone());
        }
        if let Some(dir) = &self.data_dir {
            settings.data_dir = dir.clone();
        }
    }
}

impl ServeArgs {
    /// Applies the flags over loaded settings.
    pub fn apply(&self, settings: &mut Settings) {
        self.database.apply(settings);
        if let Some(listen) = self.listen {
            settings.listen = listen;
        }
        if self.no_workers {
            settings.workers = false;
        }
        if let Some(ms) = self.sim_delay_ms {
            settings.sim_delay_ms = ms;
        }
        if let Some(speed) = self.sim_speed {
            settings.sim_speed = speed;
        }
        if let Some(seed) = self.sim_seed {
            settings.sim_seed = seed;
        }
        if let Some(url) = &self.redis_url {
            settings.redis_url = Some(url.clone());
        }
        if let Some(brokers) = &self.kafka_brokers {
            settings.kafka.brokers = brokers.clone();
        }
        if self.sim_load {
            settings.sim_load = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_speed_and_seed_flags_override_the_settings() {
        let cli = Cli::try_parse_from([
            "clustergenie",
            "serve",
            "--sim-speed",
            "0",
            "--sim-seed",
            "9",
        ])
        .expect("valid flags");
        let Command::Serve(args) = cli.command else {
            panic!("serve expected");
        };
        let mut settings = Settings::default();
        args.apply(&mut settings);
        assert_eq!((settings.sim_speed, settings.sim_seed), (0.0, 9));
        let mut untouched = Settings::default();
        let Command::Serve(none) = Cli::try_parse_from(["clustergenie", "serve"])
            .expect("valid")
            .command
        else {
            panic!("serve expected");
        };
        none.apply(&mut untouched);
        assert_eq!((untouched.sim_speed, untouched.sim_seed), (1.0, 42));
        assert!(Cli::try_parse_from(["clustergenie", "serve", "--sim-speed", "fast"]).is_err());
    }

    #[test]
    fn sim_load_is_off_unless_the_flag_turns_it_on() {
        let serve = |args: &[&str]| {
            let Command::Serve(args) = Cli::try_parse_from(args).expect("valid").command else {
                panic!("serve expected");
            };
            let mut settings = Settings::default();
            args.apply(&mut settings);
            settings
        };
        let off = serve(&["clustergenie", "serve"]);
        assert!(!off.sim_load);
        assert_eq!(off.sim_load_interval_secs, 10);
        let on = serve(&["clustergenie", "serve", "--sim-load", "--sim-seed", "5"]);
        assert_eq!((on.sim_load, on.sim_seed), (true, 5));
    }

    #[cfg(feature = "bench")]
    #[test]
    fn bench_metrics_takes_its_sizes() {
        let cli = Cli::try_parse_from([
            "clustergenie",
            "bench",
            "metrics",
            "--database-url",
            "postgres://x",
            "--samples",
            "500",
            "--series-samples",
            "1000",
            "--queries",
            "3",
        ])
        .expect("valid flags");
        let Command::Bench(args) = cli.command else {
            panic!("bench expected");
        };
        assert!(matches!(args.what, BenchKind::Metrics));
        assert_eq!(
            (args.samples, args.series_samples, args.queries),
            (500, 1000, 3)
        );
    }

    #[cfg(feature = "demo")]
    #[test]
    fn demo_load_takes_a_known_scene_and_defaults_to_the_local_server() {
        let cli =
            Cli::try_parse_from(["clustergenie", "demo", "load", "incident"]).expect("valid flags");
        let Command::Demo(DemoCommand::Load(args)) = cli.command else {
            panic!("demo load expected");
        };
        assert_eq!(args.scene, crate::demo::Scene::Incident);
        assert_eq!(
            (args.url.as_str(), args.timeout),
            ("http://127.0.0.1:8080", 120)
        );
        assert!(Cli::try_parse_from(["clustergenie", "demo", "load", "nope"]).is_err());
        assert!(Cli::try_parse_from(["clustergenie", "demo", "list"]).is_ok());
    }

    fn worker_settings(args: &[&str]) -> Settings {
        let cli = Cli::try_parse_from(args).expect("valid flags");
        let Command::Worker(args) = cli.command else {
            panic!("worker expected");
        };
        let mut settings = Settings::default();
        args.apply(&mut settings);
        settings
    }

    #[test]
    fn worker_projections_is_off_unless_asked_for() {
        let on = worker_settings(&["clustergenie", "worker", "--projections"]);
        assert!(on.worker_projections);
        let off = worker_settings(&["clustergenie", "worker"]);
        assert!(!off.worker_projections);
        let mut from_file = Settings {
            worker_projections: true,
            ..Settings::default()
        };
        let cli = Cli::try_parse_from(["clustergenie", "worker"]).expect("valid");
        let Command::Worker(args) = cli.command else {
            panic!("worker expected");
        };
        args.apply(&mut from_file);
        assert!(from_file.worker_projections, "no flag keeps the setting");
    }
}
