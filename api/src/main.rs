//! The `clustergenie` binary: parse the command line, load settings, set up logging, and
//! hand over to the library.

use anyhow::Context;
use api::cli::{Cli, Command, ProjectionsCommand};
use api::settings::Settings;
use api::startup::{shutdown_signal, Application};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = Settings::load(cli.config.as_deref()).context("could not load settings")?;
    api::telemetry::init(&settings.log_format);
    match cli.command {
        Command::Serve(args) => {
            args.apply(&mut settings);
            tracing::info!(?settings, "starting");
            let app = Application::build(settings)
                .await
                .context("could not start")?;
            app.run_until(shutdown_signal()).await;
        }
        Command::Worker(args) => {
            args.apply(&mut settings);
            tracing::info!(?settings, "starting a job worker");
            api::worker::run(settings, shutdown_signal())
                .await
                .context("the job worker failed")?;
        }
        Command::Migrate(args) => {
            args.apply(&mut settings);
            api::admin::migrate(&settings)
                .await
                .context("migration failed")?;
            println!("migrations applied ({})", settings.database_backend());
        }
        Command::Verify(args) => {
            args.apply(&mut settings);
            let report = api::admin::verify(&settings)
                .await
                .context("could not read the log")?;
            if let Some(broken) = report.first_broken {
                eprintln!("the log is broken at {broken}");
                eprintln!("({} events before it verified)", report.events_checked);
                std::process::exit(1);
            }
            println!(
                "verified {} events in {} streams up to position {}: the log is intact",
                report.events_checked, report.streams, report.head
            );
        }
        Command::Bench(args) => api::bench::run(args).await.context("benchmark failed")?,
        Command::Projections(ProjectionsCommand::Rebuild(args)) => {
            args.database.apply(&mut settings);
            let position = api::admin::rebuild(&settings, &args.name)
                .await
                .context("rebuild failed")?;
            println!(
                "{} rebuilt and swapped in at position {position}",
                args.name
            );
        }
        Command::Replay(args) => {
            args.database.apply(&mut settings);
            let position = api::admin::replay_to(&settings, &args.to, &args.into)
                .await
                .context("replay failed")?;
            println!(
                "read models at position {position} are in schema {}",
                args.into
            );
        }
        Command::Diff(args) => {
            args.database.apply(&mut settings);
            let report = api::admin::diff(&settings, &args.schema)
                .await
                .context("diff failed")?;
            print!("{}", api::admin::render_diff(&report));
            if !report.is_identical() {
                std::process::exit(1);
            }
        }
        Command::Schemas(command) => {
            let outcome = api::schemas::run(&command).context("schemas failed")?;
            print!("{}", outcome.message);
            if !outcome.success {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}
