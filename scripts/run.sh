#!/usr/bin/env bash
# Runs ClusterGenie (release build): API, projections and job executor in one process.
#
# Embedded default: SQLite under ./data, API on http://127.0.0.1:8080.
# Any `clustergenie serve` flag can follow, e.g.
#   ./scripts/run.sh --listen 0.0.0.0:8080 --sim-delay-ms 300
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./scripts/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo run --release -p clustergenie-api --bin clustergenie -- serve "$@"
