//! The `clustergenie` binary: parse the command line, load settings, set up logging, and
//! hand the subcommand over to the library ([`api::subcommands`]).

use std::process::ExitCode;

use anyhow::Context;
use api::cli::Cli;
use api::settings::Settings;
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref()).context("could not load settings")?;
    api::telemetry::init(&settings.log_format);
    Ok(api::subcommands::run(cli.command, settings).await?)
}
