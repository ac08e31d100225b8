//! Logging: structured JSON or human-readable lines, filtered by `RUST_LOG`, written to
//! stderr by a thread of their own.
//!
//! At the default `info` level the server logs one line per request. Written by the
//! request's task, each line was a `write(2)` to unbuffered stderr on a runtime thread, in
//! the middle of the request. The lines now go through a channel to one thread that writes
//! them through a buffer and flushes whenever the channel is empty, so they still appear
//! as they come. None is dropped: when the channel is full (128,000 lines) a logging task
//! waits, as it waited for stderr before.

use std::io::{self, BufWriter};

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls are ignored) and starts the thread
/// that writes the lines. Keep the guard until the process ends: dropping it writes out
/// the lines still queued and stops the thread.
#[must_use = "dropping the guard stops writing the log"]
pub fn init(format: &str) -> WorkerGuard {
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .thread_name("clustergenie-log")
        .finish(BufWriter::new(io::stderr()));
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,warp=warn,hyper=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
    guard
}
