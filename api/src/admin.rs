//! One-shot administrative commands.

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use engine::store::{self, EventStore, StoreError, VerifyReport};
use indicatif::{ProgressBar, ProgressStyle};
use projections::replay::{self, DiffReport};
use projections::runtime::Applier;
use projections::{ProjectionError, ReadDb, RuntimeOptions, SchemaName, Target};

use crate::settings::Settings;
use crate::startup::StartupError;

/// Why an administrative command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("read side")]
    Projection(#[from] ProjectionError),
    #[error("event store")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
}

/// Applies the event-store and read-model migrations.
pub async fn migrate(settings: &Settings) -> Result<(), StartupError> {
    let url = settings.database_url();
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&settings.data_dir)
            .map_err(|e| StartupError::DataDir(settings.data_dir.clone(), e))?;
    }
    store::connect(&url, 2).await?.migrate().await?;
    ReadDb::connect(&url, 2).await?.migrate().await?;
    Ok(())
}

/// Walks the log and checks its hash chains, positions and sequences.
pub async fn verify(settings: &Settings) -> Result<VerifyReport, StartupError> {
    let store = store::connect(&settings.database_url(), 2).await?;
    let mut next_report = 100_000;
    let report = store::verify(&*store, |checked| {
        if checked >= next_report {
            eprintln!("verified {checked} events...");
            next_report += 100_000;
        }
    })
    .await?;
    Ok(report)
}

/// The store and read models named by `settings`, migrated.
async fn open(settings: &Settings) -> Result<(Arc<dyn EventStore>, ReadDb), AdminError> {
    migrate(settings).await?;
    let url = settings.database_url();
    let store = store::connect(&url, 4).await?;
    let db = ReadDb::connect(&url, 4).await?;
    Ok((store, db))
}

fn progress_bar(length: u64, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new(length);
    let template = format!(
        "{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {unit} \
         ({{per_sec}}, ETA {{eta}})"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Rebuilds projection `name` without downtime, showing progress; returns the position
/// the live tables reflect after the swap.
pub async fn rebuild(settings: &Settings, name: &str) -> Result<i64, AdminError> {
    let (store, db) = open(settings).await?;
    let projection = projections::all()
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| {
            let names: Vec<_> = projections::all().iter().map(|p| p.name()).collect();
            AdminError::Usage(format!(
                "unknown projection {name:?}; one of {}",
                names.join(", ")
            ))
        })?;
    if projections::rebuild::begin(&db, &*projection).await? {
        eprintln!("resuming the interrupted rebuild of {name}");
    }
    let applier = Applier {
        db,
        projection,
        target: Target::Shadow,
        options: RuntimeOptions::default(),
    };
    let bar = progress_bar(store.head().await?.max(0) as u64, "events");
    let shown = bar.clone();
    let progress = move |position: i64, head: i64| {
        shown.set_length(head.max(0) as u64);
        shown.set_position(position.max(0) as u64);
    };
    let result = projections::rebuild::run(store, &applier, &progress).await;
    bar.finish();
    Ok(result?)
}

/// Parses `--to`: a log position, or an RFC 3339 time resolved to the last position at or
/// before it.
async fn position_to(store: &dyn EventStore, to: &str) -> Result<i64, AdminError> {
    if let Ok(position) = to.parse::<i64>() {
        return if position >= 0 {
            Ok(position)
        } else {
            Err(AdminError::Usage("--to must be a position >= 0".into()))
        };
    }
    let at = DateTime::parse_from_rfc3339(to).map_err(|_| {
        AdminError::Usage(format!(
            "--to {to:?} is neither a log position nor an RFC 3339 time"
        ))
    })?;
    Ok(store.position_at(at.into()).await?)
}

/// Materialises every read model at `to` into scratch schema `into`; returns the position.
pub async fn replay_to(settings: &Settings, to: &str, into: &str) -> Result<i64, AdminError> {
    let schema = SchemaName::parse(into)?;
    let (store, db) = open(settings).await?;
    let to = position_to(&*store, to).await?.min(store.head().await?);
    let bar = progress_bar(to.max(0) as u64, "events");
    let shown = bar.clone();
    let progress = move |position: i64| shown.set_position(position.max(0) as u64);
    let all = projections::all();
    let result = replay::replay_into(Arc::clone(&store), &db, &all, to, &schema, &progress).await;
    bar.finish();
    Ok(result?)
}

/// Compares scratch schema `schema` with the live read models.
pub async fn diff(settings: &Settings, schema: &str) -> Result<DiffReport, AdminError> {
    let schema = SchemaName::parse(schema)?;
    let (_, db) = open(settings).await?;
    Ok(replay::diff(&db, &projections::all(), &schema).await?)
}

/// A diff as text: one line per table, then each difference.
pub fn render_diff(report: &DiffReport) -> String {
    let mut out = String::new();
    if let Some(position) = report.scratch_position {
        out.push_str(&format!("scratch schema replayed to position {position}\n"));
    }
    for table in &report.tables {
        let verdict = if table.is_empty() {
            "identical"
        } else {
            "DIFFERENT"
        };
        out.push_str(&format!(
            "{}: {verdict} ({} live rows, {} scratch rows)\n",
            table.table, table.rows_live, table.rows_scratch
        ));
        for key in &table.only_live {
            out.push_str(&format!("  only live:    {key}\n"));
        }
        for key in &table.only_scratch {
            out.push_str(&format!("  only scratch: {key}\n"));
        }
        for (key, columns) in &table.changed {
            out.push_str(&format!("  changed:      {key} ({})\n", columns.join(", ")));
        }
    }
    out
}
