#!/usr/bin/env bash
# Installs the npm packages of the Powertools peer of `make bench` (bench/powertools), exactly as
# its package-lock.json pins them, with `npm ci` (npm keeps the tarballs in its own cache, so a
# reinstall does not download them again). Needs Node 18 or later (global fetch).
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/bench/powertools"
command -v node >/dev/null || { echo "node (18 or later) is required for the Powertools peer" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is required for the Powertools peer" >&2; exit 1; }
major="$(node -p 'process.versions.node.split(".")[0]')"
(( major >= 18 )) || { echo "node $major is too old for the Powertools peer (18 or later)" >&2; exit 1; }
cd "$dir"
npm ci --no-audit --no-fund --loglevel=error
