//! Benchmarks (filled in below).

use crate::cli::BenchArgs;

/// Runs a benchmark.
pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not built yet")
}
