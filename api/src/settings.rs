//! Typed, layered settings: defaults, then an optional TOML file, then `CLUSTERGENIE_*`
//! environment variables (and the conventional `DATABASE_URL` and `REDIS_URL`), then
//! command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::collections::BTreeMap;

use engine::kafka::KafkaConfig;
use engine::policies::PolicyPatch;
use engine::provider::{Faults, SimOptions};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

/// Everything the binary can be told.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Where the embedded SQLite database lives when no database URL is given.
    pub data_dir: PathBuf,
    /// `postgres://…` or `sqlite:…`; empty means embedded SQLite under `data_dir`.
    pub database_url: Option<String>,
    /// Connection pool size.
    pub database_max_connections: u32,
    /// Run the in-process job executor (off for an API-only process).
    pub workers: bool,
    /// `clustergenie worker` also runs the projections (the SQL read models), as `serve`
    /// does (`--projections`, `CLUSTERGENIE_WORKER_PROJECTIONS`).
    pub worker_projections: bool,
    /// Jobs run at once (`CLUSTERGENIE_WORKER_COUNT`).
    pub worker_count: usize,
    /// Jobs waiting for a worker (`CLUSTERGENIE_WORKER_QUEUE`).
    pub worker_queue: usize,
    /// Simulated time a provider takes for provisioning, resizing, powering and destroying.
    pub sim_delay_ms: u64,
    /// The simulated providers' speed: their latencies are divided by it (`--sim-speed`;
    /// 0: no latency at all).
    pub sim_speed: f64,
    /// The seed of the simulated providers' randomness (`--sim-seed`).
    pub sim_seed: u64,
    /// Faults injected into simulated providers from the start, by provider name
    /// (`[provider_faults.<name>]` in the file; operational state, never events).
    pub provider_faults: BTreeMap<String, Faults>,
    /// Changes to the job types' retry policies (`[job_policies.provision]` ...).
    pub job_policies: BTreeMap<String, PolicyPatch>,
    /// Snapshot a stream every this many events (0: never).
    pub snapshot_every: u64,
    /// Log format: `json` or `pretty`.
    pub log_format: String,
    /// How long `min_position` waits for the read models.
    pub read_your_writes_timeout_ms: u64,
    /// How long the live tail waits for a client that stopped reading (its buffer full)
    /// before it ends the stream with a `disconnect` event.
    pub sse_slow_client_ms: u64,
    /// On SIGTERM, how long requests still open may take before the server stops anyway
    /// (live tails end at once, with a `disconnect` event).
    pub shutdown_grace_ms: u64,
    /// `redis://…` for the cache read models (`REDIS_URL`); empty means in-process.
    pub redis_url: Option<String>,
    /// Prefix of every cache key in Redis.
    pub cache_key_prefix: String,
    /// Size budget of the in-process cache (used when no `redis_url` is set), in MiB
    /// (fractions allowed): past it the least recently used records are dropped, and
    /// reads of them are answered from SQL.
    pub cache_memory_budget_mb: f64,
    /// Enforce rate limits (`CLUSTERGENIE_RATELIMIT_ENABLED`); off, rules can still be
    /// managed but no request is limited.
    pub ratelimit_enabled: bool,
    /// Prefix of every rate-limit bucket key in Redis (buckets are shared through Redis
    /// when `redis_url` is set, else kept in process).
    pub ratelimit_key_prefix: String,
    /// How long a take from the Redis buckets may take before this process falls back
    /// to its own buckets.
    pub ratelimit_redis_timeout_ms: u64,
    /// Every active droplet reports simulated metric samples (`--sim-load`), seeded by
    /// `sim_seed`.
    pub sim_load: bool,
    /// Seconds between two simulated samples of a droplet.
    pub sim_load_interval_secs: u64,
    /// Hours raw metric samples are kept (older ones are refused and expired).
    pub metrics_raw_retention_hours: u64,
    /// Days the per-minute metric rollups are kept.
    pub metrics_rollup_retention_days: u64,
    /// Seconds between two passes of metric retention.
    pub metrics_retention_interval_secs: u64,
    /// Seconds between two rounds of the scheduled health checks (`0`: none; the status
    /// then only changes when another process checks).
    pub health_check_interval_seconds: u64,
    /// The window (seconds) a health check averages each metric over.
    pub health_window_seconds: u64,
    /// Seconds between two auto-scaling rounds (`0`: none; only the process holding the
    /// store lease `autoscaler` runs them).
    pub autoscaler_interval_seconds: u64,
    /// Kafka (`[kafka]` in the file, `KAFKA_BROKERS` and `CLUSTERGENIE_KAFKA_*` in the
    /// environment); off while `brokers` is empty.
    pub kafka: KafkaConfig,
    /// Base URL of an OpenAI-compatible chat endpoint for `engine: "llm"` diagnoses
    /// (`/chat/completions` is appended; `CLUSTERGENIE_LLM_URL`); unset or empty: the LLM
    /// engine is off and asking for it is a `422`.
    pub llm_url: Option<String>,
    /// The model named in LLM requests (`CLUSTERGENIE_LLM_MODEL`).
    pub llm_model: String,
    /// The LLM endpoint's API key (`CLUSTERGENIE_LLM_API_KEY`): a secret, sent as a bearer
    /// token only; never logged, never serialised.
    #[serde(skip_serializing)]
    pub llm_api_key: Option<String>,
    /// Seconds one LLM request may take before the diagnosis falls back to the rules.
    pub llm_timeout_seconds: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_max_connections: 16,
            workers: true,
            worker_projections: false,
            worker_count: 4,
            worker_queue: 100,
            sim_delay_ms: 1500,
            sim_speed: 1.0,
            sim_seed: 42,
            provider_faults: BTreeMap::new(),
            job_policies: BTreeMap::new(),
            snapshot_every: 100,
            log_format: "pretty".into(),
            read_your_writes_timeout_ms: 5000,
            sse_slow_client_ms: 30_000,
            shutdown_grace_ms: 10_000,
            redis_url: None,
            cache_key_prefix: "cg:".into(),
            cache_memory_budget_mb: 64.0,
            ratelimit_enabled: true,
            ratelimit_key_prefix: "cg:ratelimit:".into(),
            ratelimit_redis_timeout_ms: 250,
            kafka: KafkaConfig::default(),
            llm_url: None,
            llm_model: "gpt-4o-mini".into(),
            llm_api_key: None,
            llm_timeout_seconds: engine::diagnosis::llm::DEFAULT_TIMEOUT_SECONDS,
            sim_load: false,
            sim_load_interval_secs: 10,
            metrics_raw_retention_hours: 24,
            metrics_rollup_retention_days: 30,
            metrics_retention_interval_secs: 300,
            health_check_interval_seconds: 15,
            health_window_seconds: 60,
            autoscaler_interval_seconds: 30,
        }
    }
}

impl std::fmt::Debug for Settings {
    // Database and Redis URLs may carry passwords: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database", &self.database_backend())
            .field("database_max_connections", &self.database_max_connections)
            .field("cache", &self.cache_backend())
            .field("kafka", &self.kafka().map(|k| k.brokers.as_str()))
            .field("ratelimit_enabled", &self.ratelimit_enabled)
            .field("workers", &self.workers)
            .field("worker_projections", &self.worker_projections)
            .field("sim_delay_ms", &self.sim_delay_ms)
            .field("sim_speed", &self.sim_speed)
            .field("sim_seed", &self.sim_seed)
            .field("sim_load", &self.sim_load)
            .field(
                "health_check_interval_seconds",
                &self.health_check_interval_seconds,
            )
            .field("log_format", &self.log_format)
            .field("llm", &self.llm().map(|_| self.llm_model.as_str()))
            .field(
                "llm_api_key",
                &self.llm_api_key.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Settings {
    /// Loads defaults, then the settings file, then the environment. A file named
    /// explicitly must exist; the default `clustergenie.toml` is read only if present.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(file) if !file.exists() => {
                let message = format!("settings file {} does not exist", file.display());
                return Err(Box::new(figment::Error::from(message)));
            }
            Some(file) => figment = figment.merge(Toml::file(file)),
            None if Path::new("clustergenie.toml").exists() => {
                figment = figment.merge(Toml::file("clustergenie.toml"));
            }
            None => {}
        }
        figment
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL", "REDIS_URL"])
                    .map(|key| key.as_str().to_ascii_lowercase().into()),
            )
            .merge(
                Env::raw()
                    .only(&["KAFKA_BROKERS"])
                    .map(|_| "kafka.brokers".into()),
            )
            .merge(Env::prefixed("CLUSTERGENIE_"))
            .merge(
                Env::prefixed("CLUSTERGENIE_KAFKA_")
                    .map(|key| format!("kafka.{}", key.as_str().to_ascii_lowercase()).into()),
            )
            .extract()
            .map_err(Box::new)
    }

    /// What the simulated providers are built from.
    pub fn sim_options(&self) -> SimOptions {
        SimOptions {
            speed: self.sim_speed,
            seed: self.sim_seed,
            faults: self.provider_faults.clone(),
        }
    }

    /// The database URL to use: the configured one, or the embedded SQLite file.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}",
                self.data_dir.join("clustergenie.db").display()
            ),
        }
    }

    /// The Redis URL, if one is configured (an empty one is none).
    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url
            .as_deref()
            .map(str::trim)
            .filter(|url| !url.is_empty())
    }

    /// The Kafka settings, if brokers are configured (empty ones are none).
    pub fn kafka(&self) -> Option<&KafkaConfig> {
        Some(&self.kafka).filter(|k| !k.brokers.trim().is_empty())
    }

    /// The LLM engine's endpoint, if `llm_url` is set (an empty one is none).
    pub fn llm(&self) -> Option<engine::diagnosis::LlmConfig> {
        let url = self
            .llm_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())?;
        let key = self.llm_api_key.clone().filter(|k| !k.trim().is_empty());
        let mut config = engine::diagnosis::LlmConfig::new(url, self.llm_model.clone(), key);
        config.timeout = std::time::Duration::from_secs(self.llm_timeout_seconds.max(1));
        Some(config)
    }

    /// The in-process cache's budget in bytes (a negative or non-finite setting is 0:
    /// nothing is kept, every read goes to SQL).
    pub fn cache_memory_budget_bytes(&self) -> usize {
        let bytes = self.cache_memory_budget_mb * (1u64 << 20) as f64;
        if bytes.is_finite() && bytes > 0.0 {
            bytes as usize
        } else {
            0
        }
    }

    /// `redis` or `in-memory`: where the cache read models live.
    pub fn cache_backend(&self) -> &'static str {
        if self.redis_url().is_some() {
            "redis"
        } else {
            "in-memory"
        }
    }

    /// `postgres` or `sqlite`, for logs (never the URL itself).
    pub fn database_backend(&self) -> &'static str {
        if self.database_url().starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_sqlite_under_data_dir() {
        let settings = Settings::default();
        assert_eq!(settings.database_url(), "sqlite://data/clustergenie.db");
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn the_llm_key_is_never_printed_nor_serialised() {
        let settings = Settings {
            llm_url: Some("http://127.0.0.1:9/v1".into()),
            llm_api_key: Some("sk-very-secret".into()),
            ..Settings::default()
        };
        let printed = format!("{settings:?} {:?}", settings.llm());
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        let json = serde_json::to_string(&settings).unwrap();
        assert!(!json.contains("sk-very-secret"), "{json}");
        let llm = settings.llm().expect("configured");
        assert_eq!(llm.api_key.as_deref(), Some("sk-very-secret"));
        assert_eq!(llm.timeout, std::time::Duration::from_secs(20));
        let off = Settings {
            llm_url: Some(" ".into()),
            ..Settings::default()
        };
        assert!(off.llm().is_none());
    }

    #[test]
    fn a_named_settings_file_must_exist() {
        let error = Settings::load(Some(Path::new("/nonexistent/cg.toml"))).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }

    #[test]
    fn debug_output_hides_the_database_url() {
        let settings = Settings {
            database_url: Some("postgres://user:secret@db/cg".into()),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("postgres"));
    }

    #[test]
    fn debug_output_hides_the_redis_url() {
        let settings = Settings {
            redis_url: Some("redis://:hunter2@cache:6379".into()),
            ..Settings::default()
        };
        let printed = format!("{settings:?}");
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("redis"), "{printed}");
        assert_eq!(Settings::default().cache_backend(), "in-memory");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn sim_speed_seed_and_provider_faults_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            let defaults = Settings::load(None).map_err(|e| *e)?.sim_options();
            assert_eq!((defaults.speed, defaults.seed), (1.0, 42));
            assert!(defaults.faults.is_empty());
            jail.create_file(
                "cg.toml",
                "sim_speed = 10\nsim_seed = 7\n[provider_faults.stratus]\nfailure_rate = 0.2\n\
                 spike_ms = 5000\n[provider_faults.nimbus]\noutage = true",
            )?;
            let options = Settings::load(Some(Path::new("cg.toml")))
                .map_err(|e| *e)?
                .sim_options();
            assert_eq!((options.speed, options.seed), (10.0, 7));
            assert_eq!(options.faults["stratus"].failure_rate, 0.2);
            assert_eq!(options.faults["stratus"].spike_ms, 5000);
            assert!(options.faults["nimbus"].outage);
            jail.set_env("CLUSTERGENIE_SIM_SPEED", "0");
            jail.set_env(
                "CLUSTERGENIE_PROVIDER_FAULTS",
                "{simcloud={spike_rate=0.5}}",
            );
            let options = Settings::load(None).map_err(|e| *e)?.sim_options();
            assert_eq!(options.speed, 0.0);
            assert_eq!(options.faults["simcloud"].spike_rate, 0.5);
            jail.set_env("CLUSTERGENIE_PROVIDER_FAULTS", "{simcloud={colour=1}}");
            assert!(
                Settings::load(None).is_err(),
                "unknown fault fields are refused"
            );
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn redis_url_from_either_variable_the_prefixed_one_winning() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("REDIS_URL", "redis://plain:6379");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.redis_url(), Some("redis://plain:6379"));
            assert_eq!(settings.cache_backend(), "redis");
            jail.set_env("CLUSTERGENIE_REDIS_URL", "redis://prefixed:6379");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.redis_url(), Some("redis://prefixed:6379"));
            jail.set_env("REDIS_URL", "");
            jail.set_env("CLUSTERGENIE_REDIS_URL", " ");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.redis_url(), None);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn cache_memory_budget_in_mib_from_the_environment() {
        figment::Jail::expect_with(|jail| {
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.cache_memory_budget_bytes(), 64 << 20);
            jail.set_env("CLUSTERGENIE_CACHE_MEMORY_BUDGET_MB", "0.5");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.cache_memory_budget_bytes(), 512 << 10);
            jail.set_env("CLUSTERGENIE_CACHE_MEMORY_BUDGET_MB", "-1");
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(settings.cache_memory_budget_bytes(), 0);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn kafka_from_the_environment_and_the_file_its_password_hidden() {
        figment::Jail::expect_with(|jail| {
            assert!(Settings::load(None).map_err(|e| *e)?.kafka().is_none());
            jail.create_file(
                "cg.toml",
                "[kafka]\npartitions = 12\nsasl_username = \"cg\"",
            )?;
            jail.set_env("KAFKA_BROKERS", "k1:9092,k2:9092");
            jail.set_env("CLUSTERGENIE_KAFKA_SASL_PASSWORD", "hunter2");
            jail.set_env("CLUSTERGENIE_KAFKA_REPLICATION_FACTOR", "3");
            let settings = Settings::load(Some(Path::new("cg.toml"))).map_err(|e| *e)?;
            let kafka = settings.kafka().expect("kafka on");
            assert_eq!(kafka.brokers, "k1:9092,k2:9092");
            assert_eq!(kafka.partitions, 12);
            assert_eq!(kafka.replication_factor, 3);
            assert_eq!(kafka.sasl_username.as_deref(), Some("cg"));
            assert_eq!(kafka.sasl_password.as_deref(), Some("hunter2"));
            let printed = format!("{settings:?}");
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("k1:9092"), "{printed}");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn environment_overrides_file_and_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("cg.toml", "sim_delay_ms = 10\nworkers = false")?;
            jail.set_env("CLUSTERGENIE_SIM_DELAY_MS", "20");
            jail.set_env("DATABASE_URL", "postgres://db/x");
            let settings = Settings::load(Some(Path::new("cg.toml"))).map_err(|e| *e)?;
            assert_eq!(settings.sim_delay_ms, 20);
            assert!(!settings.workers);
            assert_eq!(settings.database_url(), "postgres://db/x");
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn job_policies_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "cg.toml",
                "[job_policies.provision]\nmax_attempts = 8\nnon_retryable = [\"no_capacity\"]",
            )?;
            let settings = Settings::load(Some(Path::new("cg.toml"))).map_err(|e| *e)?;
            let provision = &settings.job_policies["provision"];
            assert_eq!(provision.max_attempts, Some(8));
            assert_eq!(
                provision.non_retryable,
                Some(vec!["no_capacity".to_owned()])
            );
            jail.set_env(
                "CLUSTERGENIE_JOB_POLICIES",
                "{diagnose={attempt_timeout_ms=500}}",
            );
            let settings = Settings::load(None).map_err(|e| *e)?;
            assert_eq!(
                settings.job_policies["diagnose"].attempt_timeout_ms,
                Some(500)
            );
            Ok(())
        });
    }
}
