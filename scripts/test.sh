#!/usr/bin/env bash
# ClusterGenie's one test command (the README shows it; .ci/run runs exactly it).
#
# On a fresh Debian machine it installs what is missing (apt-get), starts PostgreSQL and
# Redis when they do not answer, then checks the deploy files, formatting and lints, and
# runs the whole test suite:
#
#   1. tools:    cc/pkg-config/OpenSSL and zlib headers (librdkafka), PostgreSQL, Redis,
#                python3 (+ PyYAML; kafka-python, jsonschema and schemathesis in
#                target/pyenv), Node.js + npm and Chromium (Debian), Rust (rustup),
#                tansu (a Kafka-protocol broker, `cargo install`, only when missing)
#   2. services: PostgreSQL at $DATABASE_URL, Redis at $REDIS_URL (both local by default)
#   3. checks:   scripts/check-deploy.sh, cargo fmt --check, cargo clippy -D warnings;
#                the web console (web/): npm ci, generated client current, type check and
#                build, Vitest, then the end-to-end run in Debian's Chromium
#   4. tests:    cargo nextest run (+ doc tests) when cargo-nextest is installed,
#                else cargo test, after scripts/fuzz-api.sh (schemathesis against the
#                served OpenAPI document)
# Steps 3 and 4 all run even when one fails; the script exits non-zero if any failed.
#
# Environment:
#   DATABASE_URL  PostgreSQL the tests use (default postgres://postgres@127.0.0.1:5432/postgres).
#                 When it names another host, nothing is installed or started for it.
#   REDIS_URL     Redis (default redis://127.0.0.1:6379), same rule.
#   CG_WAIT_SECONDS  how long to wait for each service to answer (default 60).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WAIT_SECONDS="${CG_WAIT_SECONDS:-60}"
DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379"

CURRENT_STEP="setup"
FAILED_STEPS=()
step() {
    CURRENT_STEP="$*"
    printf '\n==> %s\n' "$*"
}
info() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}
on_exit() {
    local status=$?
    if [[ $status -eq 0 ]]; then
        printf '\n==> all checks and tests passed\n'
    elif [[ ${#FAILED_STEPS[@]} -gt 0 ]]; then
        printf '\n==> FAILED: %d step(s)\n' "${#FAILED_STEPS[@]}" >&2
        printf '    - %s\n' "${FAILED_STEPS[@]}" >&2
    else
        printf '\n==> FAILED (exit %d) during: %s\n' "$status" "$CURRENT_STEP" >&2
    fi
}
trap on_exit EXIT

# --- privileges -------------------------------------------------------------------------

SUDO=()
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
fi
as_root() {
    if [[ $(id -u) -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "root (or sudo) is needed to run: $*"
    fi
    ${SUDO[@]+"${SUDO[@]}"} "$@"
}

# --- URLs -------------------------------------------------------------------------------

# host and port of a URL like scheme://user:pass@host:port/path?query
url_host() {
    local rest="${1#*://}"
    rest="${rest%%/*}"
    rest="${rest%%\?*}"
    rest="${rest##*@}"
    if [[ $rest == \[* ]]; then
        rest="${rest#[}"
        printf '%s' "${rest%%]*}"
    else
        printf '%s' "${rest%%:*}"
    fi
}
url_port() {
    local rest="${1#*://}" default="$2"
    rest="${rest%%/*}"
    rest="${rest%%\?*}"
    rest="${rest##*@}"
    rest="${rest##*]}"
    if [[ $rest == *:* ]]; then
        printf '%s' "${rest##*:}"
    else
        printf '%s' "$default"
    fi
}
is_local_host() {
    case "$1" in
    "" | 127.0.0.1 | localhost | ::1) return 0 ;;
    *) return 1 ;;
    esac
}
# A TCP connect with bash alone (works before any client is installed).
tcp_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" >/dev/null 2>&1
}

DATABASE_URL_GIVEN=1
if [[ -z ${DATABASE_URL:-} ]]; then
    DATABASE_URL_GIVEN=0
    DATABASE_URL="$DEFAULT_DATABASE_URL"
fi
export DATABASE_URL
REDIS_URL="${REDIS_URL:-$DEFAULT_REDIS_URL}"
export REDIS_URL

PG_HOST="$(url_host "$DATABASE_URL")"
PG_PORT="$(url_port "$DATABASE_URL" 5432)"
REDIS_HOST="$(url_host "$REDIS_URL")"
REDIS_PORT="$(url_port "$REDIS_URL" 6379)"
[[ -n $PG_HOST ]] || PG_HOST=127.0.0.1
[[ -n $REDIS_HOST ]] || REDIS_HOST=127.0.0.1

PG_LOCAL=0
if [[ $DATABASE_URL == postgres://* || $DATABASE_URL == postgresql://* ]]; then
    if is_local_host "$PG_HOST"; then PG_LOCAL=1; fi
else
    die "DATABASE_URL must be a postgres:// URL for the test suite"
fi
REDIS_LOCAL=0
if is_local_host "$REDIS_HOST"; then REDIS_LOCAL=1; fi

pg_answering() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" >/dev/null 2>&1
    else
        tcp_open "$PG_HOST" "$PG_PORT"
    fi
}
redis_answering() {
    if command -v redis-cli >/dev/null 2>&1; then
        [[ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
    else
        tcp_open "$REDIS_HOST" "$REDIS_PORT"
    fi
}

# --- 1. tools ---------------------------------------------------------------------------

step "checking tools"
APT_PACKAGES=()
need() { APT_PACKAGES+=("$@"); }

if ! command -v cc >/dev/null 2>&1; then need build-essential; fi
if ! command -v pkg-config >/dev/null 2>&1; then need pkg-config; fi
if ! command -v make >/dev/null 2>&1; then need make; fi
# librdkafka, built from source by rdkafka-sys, links OpenSSL and zlib.
if ! pkg-config --exists openssl 2>/dev/null; then need libssl-dev; fi
if ! pkg-config --exists zlib 2>/dev/null; then need zlib1g-dev; fi
if ! command -v timeout >/dev/null 2>&1; then need coreutils; fi

if [[ $PG_LOCAL -eq 1 ]] && ! pg_answering; then
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        need postgresql
    fi
fi
if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
    need postgresql-client
fi

if [[ $REDIS_LOCAL -eq 1 ]] && ! redis_answering && ! command -v redis-server >/dev/null 2>&1; then
    need redis-server
fi
if ! command -v redis-cli >/dev/null 2>&1; then need redis-tools; fi
# The web console: Node and npm (its packages come from npm), and Debian's Chromium for the
# browser test (never a downloaded browser).
if ! command -v npm >/dev/null 2>&1; then need nodejs npm; fi
if [[ ! -x /usr/bin/chromium ]]; then need chromium; fi

if ! command -v python3 >/dev/null 2>&1; then
    need python3 python3-yaml python3-venv
elif ! python3 -c 'import yaml' >/dev/null 2>&1 && ! python3 -m pip --version >/dev/null 2>&1; then
    # System Python without pip: take PyYAML from Debian rather than pip.
    need python3-yaml
fi

NEED_RUSTUP=0
if ! command -v cargo >/dev/null 2>&1 && [[ -x $HOME/.cargo/bin/cargo ]]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
    NEED_RUSTUP=1
    if ! command -v curl >/dev/null 2>&1; then need curl; fi
    need ca-certificates
fi

if [[ ${#APT_PACKAGES[@]} -gt 0 ]]; then
    command -v apt-get >/dev/null 2>&1 ||
        die "missing: ${APT_PACKAGES[*]} (and apt-get is not available to install them)"
    info "installing with apt-get: ${APT_PACKAGES[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        "${APT_PACKAGES[@]}"
else
    info "system packages: nothing to install"
fi

if [[ $NEED_RUSTUP -eq 1 ]]; then
    info "installing Rust with rustup (stable, minimal profile + rustfmt, clippy)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y --profile minimal --component rustfmt,clippy
    export PATH="$HOME/.cargo/bin:$PATH"
fi
for component in rustfmt clippy; do
    sub="${component/rustfmt/fmt}"
    if ! cargo "$sub" --version >/dev/null 2>&1; then
        command -v rustup >/dev/null 2>&1 || die "cargo $sub is missing and rustup is not available"
        info "adding the $component component"
        rustup component add "$component"
    fi
done
info "$(cargo --version)"

# The external Kafka consumer of the end-to-end test (scripts/kafka_contract_check.py) and
# the API fuzzer (scripts/fuzz-api.sh) run in their own virtual environment, pinned by
# scripts/requirements-test.txt.
PYENV="$ROOT/target/pyenv"
if ! "$PYENV/bin/python" -c 'import kafka, jsonschema, schemathesis' >/dev/null 2>&1; then
    info "creating $PYENV (kafka-python, jsonschema, schemathesis)"
    if ! python3 -m venv "$PYENV" >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "python3 -m venv failed and apt-get is not available"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
        python3 -m venv "$PYENV"
    fi
    "$PYENV/bin/python" -m pip install -q -r scripts/requirements-test.txt
fi
export CG_PYTHON="$PYENV/bin/python"
info "python for the Kafka contract check: $("$CG_PYTHON" --version)"

# tansu: a Kafka-protocol broker for the end-to-end test (no JVM, no Docker). A long build,
# so only when it is missing.
TANSU="$(command -v tansu || true)"
if [[ -z $TANSU && -x ${CARGO_HOME:-$HOME/.cargo}/bin/tansu ]]; then
    TANSU="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
fi
if [[ -z $TANSU ]]; then
    info "installing tansu (cargo install tansu --locked --features postgres,dynostore; takes a while)"
    cargo install tansu --locked --features postgres,dynostore
    TANSU="${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
fi
export TANSU
info "tansu: $("$TANSU" --version 2>/dev/null || echo "$TANSU")"

# --- 2. services ------------------------------------------------------------------------

wait_for() {
    local what="$1" check="$2" waited=0
    while ! "$check"; do
        if ((waited >= WAIT_SECONDS * 2)); then
            die "$what did not answer within ${WAIT_SECONDS}s"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
}

# The newest installed PostgreSQL major version (from /etc/postgresql, else the binaries).
pg_version() {
    local v dir
    for dir in /etc/postgresql /usr/lib/postgresql; do
        v="$(find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n 1 || true)"
        if [[ -n $v ]]; then break; fi
    done
    printf '%s' "$v"
}

# A fresh Debian cluster asks for passwords on TCP; the URL has none: trust local TCP.
pg_trust_local_tcp() {
    local version="$1" hba
    hba="/etc/postgresql/$version/main/pg_hba.conf"
    [[ -f $hba ]] || die "cannot find $hba to allow local connections"
    warn "allowing password-less (trust) connections from 127.0.0.1 and ::1 in $hba (development machine setup)"
    local tmp
    tmp="$(mktemp)"
    {
        echo "# added by clustergenie scripts/test.sh: local trust for the test suite"
        echo "host    all    all    127.0.0.1/32    trust"
        echo "host    all    all    ::1/128         trust"
        as_root cat "$hba"
    } >"$tmp"
    as_root cp "$tmp" "$hba"
    rm -f "$tmp"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
}

step "PostgreSQL ($PG_HOST:$PG_PORT)"
if pg_answering; then
    info "answering"
elif [[ $PG_LOCAL -eq 1 ]]; then
    version="$(pg_version)"
    [[ -n $version ]] || die "PostgreSQL is not installed"
    if [[ ! -d /etc/postgresql/$version/main ]]; then
        info "creating cluster $version/main"
        as_root pg_createcluster "$version" main
    fi
    info "starting cluster $version/main"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
        warn "pg_ctlcluster start failed (already running?); waiting for it anyway"
    wait_for "PostgreSQL" pg_answering
    info "answering"
else
    wait_for "PostgreSQL at $PG_HOST:$PG_PORT" pg_answering
fi
if ! psql "$DATABASE_URL" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    if [[ $PG_LOCAL -eq 1 && $DATABASE_URL_GIVEN -eq 0 ]]; then
        pg_trust_local_tcp "$(pg_version)"
        psql "$DATABASE_URL" -Atqc 'SELECT 1' >/dev/null ||
            die "cannot connect to $DEFAULT_DATABASE_URL even with trust authentication"
    else
        psql "$DATABASE_URL" -Atqc 'SELECT 1' >/dev/null || true
        die "PostgreSQL answers but DATABASE_URL does not connect (see the error above)"
    fi
fi
info "connected: $(psql "$DATABASE_URL" -Atqc 'SHOW server_version')"

step "Redis ($REDIS_HOST:$REDIS_PORT)"
if redis_answering; then
    info "answering"
elif [[ $REDIS_LOCAL -eq 1 ]]; then
    info "starting redis-server"
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    wait_for "Redis" redis_answering
    info "answering"
else
    wait_for "Redis at $REDIS_HOST:$REDIS_PORT" redis_answering
fi

# --- 3. checks and 4. tests --------------------------------------------------------------
# Every step runs even when an earlier one failed, so one run reports everything; the script
# exits non-zero if any step failed.

run_step() {
    local name="$1"
    shift
    step "$name"
    local status=0
    "$@" || status=$?
    if [[ $status -ne 0 ]]; then
        FAILED_STEPS+=("$name (exit $status)")
        printf '    FAILED: %s (exit %d)\n' "$name" "$status" >&2
    fi
}

run_step "deploy files (scripts/check-deploy.sh)" bash scripts/check-deploy.sh
run_step "cargo fmt --all -- --check" cargo fmt --all -- --check
run_step "cargo clippy --workspace --all-targets --locked -- -D warnings" \
    cargo clippy --workspace --all-targets --locked -- -D warnings

# The console: its packages, generated client, types, unit tests and build; then, once the
# binary is built, the end-to-end run in Chromium.
web() { (cd web && "$@"); }
run_step "web: npm ci" web npm ci --no-audit --no-fund
run_step "web: generated API client is current (npm run gen:check)" web npm run --silent gen:check
run_step "web: type check and build (npm run build)" web npm run --silent build
run_step "web: unit and component tests (npm test)" web npm test --silent
run_step "web: end to end in Chromium (npm run e2e)" bash -c \
    'cargo build --quiet --locked -p clustergenie-api --bin clustergenie && cd web && npm run --silent e2e'

# Before the test suite, so that its summary is the last one printed.
run_step "API fuzzing (scripts/fuzz-api.sh)" env CG_SCHEMATHESIS="$PYENV/bin/schemathesis" \
    bash scripts/fuzz-api.sh
if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doc tests: run them first, so that the last summary printed is
    # the one of the whole suite.
    run_step "cargo test --doc --workspace --locked" cargo test --doc --workspace --locked
    run_step "cargo nextest run --workspace --locked --no-fail-fast" cargo nextest run --workspace --locked --no-fail-fast
else
    run_step "cargo test --workspace --locked --no-fail-fast" cargo test --workspace --locked --no-fail-fast
fi

CURRENT_STEP="done"
if [[ ${#FAILED_STEPS[@]} -gt 0 ]]; then
    CURRENT_STEP="checks and tests"
    exit 1
fi
