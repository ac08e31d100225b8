#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis.
#
# Starts the real `clustergenie serve` binary in embedded mode (SQLite in a fresh temporary
# data dir, in-process cache and bus) on a free 127.0.0.1 port, runs `schemathesis run`
# against http://127.0.0.1:PORT/v1/openapi.json with the checks below, then stops the
# server. Exits non-zero when schemathesis finds a failure (the server's log is printed).
#
#   not_a_server_error           no 5xx, whatever the input (but the 504 of a `min_position`
#                                never reached: see scripts/schemathesis.toml)
#   status_code_conformance      every status answered is documented for the operation
#   content_type_conformance     every Content-Type answered is documented
#   response_schema_conformance  every body matches its documented schema
#
# The live tail (GET /v1/events/stream) is left out: it streams until the client leaves.
#
# Environment:
#   CG_BIN           the binary (default: built with cargo, debug profile)
#   CG_SCHEMATHESIS  the schemathesis executable (default target/pyenv/bin/schemathesis,
#                    which scripts/test.sh installs from scripts/requirements-test.txt)
#   CG_FUZZ_EXAMPLES test cases per operation and phase (default 25)
#   CG_FUZZ_SEED     the generation seed (default fixed, so that a run is repeatable; set
#                    another to explore)
#   CG_FUZZ_SECONDS  the most the whole run may take (default 300)
#   CG_FUZZ_ARGS     more `schemathesis run` arguments, e.g. `--phases stateful`
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SCHEMATHESIS="${CG_SCHEMATHESIS:-$ROOT/target/pyenv/bin/schemathesis}"
EXAMPLES="${CG_FUZZ_EXAMPLES:-25}"
SEED="${CG_FUZZ_SEED:-20261205}"
SECONDS_ALLOWED="${CG_FUZZ_SECONDS:-300}"

[[ -x $SCHEMATHESIS ]] || {
    echo "error: $SCHEMATHESIS not found (scripts/test.sh installs it in target/pyenv)" >&2
    exit 1
}
if [[ -n ${CG_BIN:-} ]]; then
    BIN="$(realpath "$CG_BIN")"
else
    (cd "$ROOT" && cargo build --quiet --locked -p clustergenie-api --bin clustergenie)
    BIN="$TARGET_DIR/debug/clustergenie"
fi

DATA="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"

# Embedded mode whatever the caller's environment says: no DATABASE_URL, Redis, Kafka or
# CLUSTERGENIE_* settings, and no clustergenie.toml (the server runs in the data dir).
ENV_CLEAN=(-u DATABASE_URL -u REDIS_URL -u KAFKA_BROKERS)
while IFS='=' read -r name _; do
    ENV_CLEAN+=(-u "$name")
done < <(env | grep '^CLUSTERGENIE_' || true)
(
    cd "$DATA"
    exec env "${ENV_CLEAN[@]}" \
        CLUSTERGENIE_LOG_FORMAT=json RUST_LOG="${RUST_LOG:-warn}" \
        CLUSTERGENIE_READ_YOUR_WRITES_TIMEOUT_MS=200 \
        "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" --sim-speed 0
) >"$DATA/server.log" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 120); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        break
    fi
    if python3 -c "import urllib.request, sys; urllib.request.urlopen('$BASE/readyz', timeout=1)" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.5
done
if [[ $ready -ne 1 ]]; then
    echo "error: clustergenie serve did not become ready on $BASE; its log:" >&2
    cat "$DATA/server.log" >&2
    exit 1
fi
echo "fuzzing $BASE (seed $SEED, $EXAMPLES examples per operation)"

status=0
(cd "$DATA" && timeout "$SECONDS_ALLOWED" "$SCHEMATHESIS" \
    --config-file "$ROOT/scripts/schemathesis.toml" run "$BASE/v1/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --exclude-operation-id streamEvents \
    --request-timeout 10 \
    --workers 1 \
    --generation-database none \
    --no-color \
    ${CG_FUZZ_ARGS:-}) || status=$?

if [[ $status -ne 0 ]]; then
    if [[ $status -eq 124 ]]; then
        echo "error: schemathesis did not finish within ${SECONDS_ALLOWED}s" >&2
    fi
    echo "--- server log (warnings and errors) ---" >&2
    tail -n 200 "$DATA/server.log" >&2
fi
exit "$status"
