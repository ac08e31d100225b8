//! One-shot administrative commands.

use engine::store::{self, VerifyReport};
use projections::ReadDb;

use crate::settings::Settings;
use crate::startup::StartupError;

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
