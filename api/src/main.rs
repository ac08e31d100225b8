//! The `clustergenie` binary: parse the command line, load settings, set up logging, and
//! hand the subcommand over to the library ([`api::subcommands`]).

use std::process::ExitCode;

use anyhow::Context;
use api::cli::Cli;
use api::settings::Settings;
use clap::Parser;

/// mimalloc rather than the system allocator: a server answering pages of JSON from a
/// large in-process cache spent a quarter of its time in glibc's malloc (bins walked
/// and consolidated in a fragmented heap), and more as the cache filled.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("could not load settings")?;
    // Held to the end: dropping it writes out the log lines still queued.
    let _log = api::telemetry::init(&settings.log_format).context("could not start logging")?;
    Ok(api::subcommands::run(cli.command, settings).await?)
}
