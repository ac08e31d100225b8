//! What each subcommand of the `clustergenie` binary does, once the binary has parsed
//! the command line, loaded the settings and set up logging.

use std::process::ExitCode;

use crate::cli::{Command, ProjectionsCommand};
use crate::settings::Settings;
use crate::startup::{shutdown_signal, Application};

/// A subcommand that failed: what it was doing, and why.
#[derive(Debug, thiserror::Error)]
#[error("{doing}")]
pub struct SubcommandError {
    doing: &'static str,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

/// Wraps an error with what was being done.
fn failed<E: Into<Box<dyn std::error::Error + Send + Sync>>>(
    doing: &'static str,
) -> impl FnOnce(E) -> SubcommandError {
    move |error| SubcommandError {
        doing,
        source: error.into(),
    }
}

/// Runs `command` with `settings` (its flags applied over them); the exit code says
/// whether what it checked holds (`verify`, `diff`, `schemas check`).
pub async fn run(command: Command, mut settings: Settings) -> Result<ExitCode, SubcommandError> {
    match command {
        Command::Serve(args) => {
            args.apply(&mut settings);
            serve(settings).await?;
        }
        Command::Worker(args) => {
            args.apply(&mut settings);
            tracing::info!(?settings, "starting a job worker");
            crate::worker::run(settings, shutdown_signal())
                .await
                .map_err(failed("the job worker failed"))?;
        }
        Command::Migrate(args) => {
            args.apply(&mut settings);
            crate::admin::migrate(&settings)
                .await
                .map_err(failed("migration failed"))?;
            println!("migrations applied ({})", settings.database_backend());
        }
        Command::Verify(args) => {
            args.apply(&mut settings);
            return verify(&settings).await;
        }
        #[cfg(feature = "bench")]
        Command::Bench(args) => crate::bench::run(args)
            .await
            .map_err(failed("benchmark failed"))?,
        Command::Projections(ProjectionsCommand::Rebuild(args)) => {
            args.database.apply(&mut settings);
            let position = crate::admin::rebuild(&settings, &args.name)
                .await
                .map_err(failed("rebuild failed"))?;
            println!(
                "{} rebuilt and swapped in at position {position}",
                args.name
            );
        }
        Command::Replay(args) => {
            args.database.apply(&mut settings);
            let position = crate::admin::replay_to(&settings, &args.to, &args.into)
                .await
                .map_err(failed("replay failed"))?;
            println!(
                "read models at position {position} are in schema {}",
                args.into
            );
        }
        Command::Diff(args) => {
            args.database.apply(&mut settings);
            return diff(&settings, &args.schema).await;
        }
        Command::Schemas(command) => {
            let outcome = crate::schemas::run(&command).map_err(failed("schemas failed"))?;
            print!("{}", outcome.message);
            return Ok(exit_code(outcome.success));
        }
        #[cfg(feature = "demo")]
        Command::Demo(command) => demo(command).await?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `demo list` and `demo load`: progress on stderr, the summary on stdout.
#[cfg(feature = "demo")]
async fn demo(command: crate::cli::DemoCommand) -> Result<(), SubcommandError> {
    use crate::cli::DemoCommand;
    use crate::demo::DemoClient;
    match command {
        DemoCommand::List => print!("{}", crate::demo::list()),
        DemoCommand::Load(args) => {
            let timeout = std::time::Duration::from_secs(args.timeout);
            let client = DemoClient::new(&args.url, timeout)
                .map_err(failed("bad --url"))?
                .catch_interrupt();
            client.say(format!(
                "loading {} into {}",
                args.scene.name(),
                client.base()
            ));
            let summary = crate::demo::load(args.scene, &client)
                .await
                .map_err(failed("the scene could not be loaded"))?;
            print!("{}", summary.render(client.base()));
        }
    }
    Ok(())
}

/// `serve`: the API until a shutdown signal.
async fn serve(settings: Settings) -> Result<(), SubcommandError> {
    tracing::info!(?settings, "starting");
    let app = Application::build(settings)
        .await
        .map_err(failed("could not start"))?;
    app.run_until(shutdown_signal()).await;
    Ok(())
}

/// `verify`: fails at the first broken hash link.
async fn verify(settings: &Settings) -> Result<ExitCode, SubcommandError> {
    let report = crate::admin::verify(settings)
        .await
        .map_err(failed("could not read the log"))?;
    if let Some(broken) = report.first_broken {
        eprintln!("the log is broken at {broken}");
        eprintln!("({} events before it verified)", report.events_checked);
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "verified {} events in {} streams up to position {}: the log is intact",
        report.events_checked, report.streams, report.head
    );
    Ok(ExitCode::SUCCESS)
}

/// `diff`: fails when the scratch schema differs from the live read models.
async fn diff(settings: &Settings, schema: &str) -> Result<ExitCode, SubcommandError> {
    let report = crate::admin::diff(settings, schema)
        .await
        .map_err(failed("diff failed"))?;
    print!("{}", crate::admin::render_diff(&report));
    Ok(exit_code(report.is_identical()))
}

fn exit_code(success: bool) -> ExitCode {
    if success {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
