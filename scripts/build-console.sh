#!/usr/bin/env bash
# Builds the web console (web/ -> web/dist) when it is missing or older than its sources,
# installing Node and npm from Debian's packages when absent. `--force` builds anyway.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../web"

stale() {
    [[ ! -f dist/index.html ]] && return 0
    [[ -n "$(find src index.html package.json package-lock.json vite.config.ts ../schemas/openapi.yaml \
        -newer dist/index.html -print -quit 2>/dev/null)" ]]
}

if [[ "${1:-}" != "--force" ]] && ! stale; then
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "==> installing Node.js and npm (apt-get)"
    SUDO=()
    [[ $(id -u) -ne 0 ]] && SUDO=(sudo)
    "${SUDO[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q nodejs npm
fi
echo "==> building the console (web/dist)"
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
fi
npm run build
