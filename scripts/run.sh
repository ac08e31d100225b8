#!/usr/bin/env bash
# Runs ClusterGenie (release build): API, projections, job executor and the web console in
# one process.
#
# Embedded default: SQLite under ./data, console and API on http://127.0.0.1:8080.
# The console (web/) is built first when web/dist is missing or older than its sources;
# Node and npm come from Debian's packages when absent (apt-get), its packages from npm.
# Any `clustergenie serve` flag can follow, e.g.
#   ./scripts/run.sh --listen 0.0.0.0:8080 --sim-delay-ms 300
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres ./scripts/run.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
./scripts/build-console.sh
exec cargo run --release -p clustergenie-api --bin clustergenie -- serve "$@"
